import type { Geometry } from './geometry.js';

/**
 * A scalar volume on a grid. CT volumes hold Hounsfield units (RescaleSlope/Intercept applied,
 * PS3.3 C.11.1.1.2); masks and label maps use Uint8Array. Voxel (i, j, k) is at
 * data[i + dims[0] * (j + dims[1] * k)].
 */
export interface Volume<T extends Float32Array | Int16Array | Uint8Array | Uint16Array = Float32Array>
  extends Geometry {
  data: T;
}

export type LabelVolume = Volume<Uint8Array | Uint16Array>;
