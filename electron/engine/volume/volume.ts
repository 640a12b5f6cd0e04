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

/** A CT volume as the archive loads it: int16 when the HU are integral and fit, else float32 (volume/load.ts). */
export type CtVolume = Volume<Int16Array | Float32Array>;

/**
 * The float32 form of a CT volume, for the algorithms written against float32 (localizers,
 * segmenters, NIfTI export): the same object when it is float32 already, else one exact conversion
 * (every int16 value is a float32).
 */
export function floatVolume(v: CtVolume): Volume {
  return v.data instanceof Float32Array ? (v as Volume) : { ...v, data: Float32Array.from(v.data) };
}
