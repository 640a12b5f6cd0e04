/**
 * Geometry the viewer needs, on the engine's conventions (electron/engine/volume/geometry.ts):
 * direction is row-major with COLUMNS = LPS directions of the i, j, k axes. Cornerstone3D's
 * `direction` lists the i, j, k axis vectors one after another (row cosine, column cosine, normal),
 * i.e. the transpose of ours: passing ours unchanged silently mirrors an oblique or flipped series.
 */
import type { Mat3, Vec3, VolumeHandle } from '../../../../electron/api.js';

export function cornerstoneDirection(d: Mat3): Mat3 {
  return [d[0], d[3], d[6], d[1], d[4], d[7], d[2], d[5], d[8]];
}

/** LPS mm -> continuous voxel index (direction orthonormal: inverse = transpose). */
export function patientToVoxel(g: Pick<VolumeHandle, 'origin' | 'spacing' | 'direction'>, p: Vec3): Vec3 {
  const d = g.direction;
  const x = p[0] - g.origin[0];
  const y = p[1] - g.origin[1];
  const z = p[2] - g.origin[2];
  return [(d[0] * x + d[3] * y + d[6] * z) / g.spacing[0], (d[1] * x + d[4] * y + d[7] * z) / g.spacing[1], (d[2] * x + d[5] * y + d[8] * z) / g.spacing[2]];
}

/** The voxel value nearest to an LPS point, or undefined outside the volume. */
export function sampleNearest(g: Pick<VolumeHandle, 'origin' | 'spacing' | 'direction' | 'dims'>, data: ArrayLike<number>, p: Vec3): number | undefined {
  const v = patientToVoxel(g, p);
  const i = Math.round(v[0]);
  const j = Math.round(v[1]);
  const k = Math.round(v[2]);
  if (i < 0 || j < 0 || k < 0 || i >= g.dims[0] || j >= g.dims[1] || k >= g.dims[2]) return undefined;
  return data[i + g.dims[0] * (j + g.dims[1] * k)];
}

export function sub(a: Vec3, b: Vec3): Vec3 {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}

export function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
