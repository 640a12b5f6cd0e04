/**
 * Geometry the viewer needs, on the engine's conventions (electron/engine/volume/geometry.ts):
 * direction is row-major with COLUMNS = LPS directions of the i, j, k axes. Cornerstone3D's
 * `direction` lists the i, j, k axis vectors one after another (row cosine, column cosine, normal),
 * i.e. the transpose of ours: passing ours unchanged silently mirrors an oblique or flipped series.
 * Voxel order is i fastest, then j, then k; positions are LPS mm (PS3.3 C.7.6.2.1.1).
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

type Grid = Pick<VolumeHandle, 'dims' | 'spacing' | 'origin' | 'direction'>;

/** World (LPS) position of a voxel centre; `direction` columns are the i, j, k axes. */
export function voxelCentre(h: Grid, i: number, j: number, k: number): Vec3 {
  const d = h.direction;
  const a = i * h.spacing[0];
  const b = j * h.spacing[1];
  const c = k * h.spacing[2];
  return [h.origin[0] + d[0] * a + d[1] * b + d[2] * c, h.origin[1] + d[3] * a + d[4] * b + d[5] * c, h.origin[2] + d[6] * a + d[7] * b + d[8] * c];
}

/** The grid axis (0 = i, 1 = j, 2 = k) most parallel to a view's normal, and the slice through `focal`. */
export function sliceAxis(h: Grid, normal: Vec3, focal: Vec3): { axis: 0 | 1 | 2; index: number } {
  const d = h.direction;
  let axis: 0 | 1 | 2 = 2;
  let best = -1;
  for (const a of [0, 1, 2] as const) {
    const c = Math.abs(normal[0] * d[a]! + normal[1] * d[3 + a]! + normal[2] * d[6 + a]!);
    if (c > best) {
      best = c;
      axis = a;
    }
  }
  const coord = patientToVoxel(h, focal)[axis];
  return { axis, index: Math.min(Math.max(Math.round(coord), 0), h.dims[axis] - 1) };
}

/** Inclusive voxel bounds of every voxel labelled `index`, or undefined when there is none. */
export function labelExtent(labels: Uint8Array, dims: Vec3, index: number): { lo: Vec3; hi: Vec3 } | undefined {
  const [nx, ny] = dims;
  const lo: Vec3 = [Infinity, Infinity, Infinity];
  const hi: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (let p = 0; p < labels.length; p++) {
    if (labels[p] !== index) continue;
    const ijk = [p % nx, Math.floor(p / nx) % ny, Math.floor(p / (nx * ny))];
    for (let a = 0; a < 3; a++) {
      lo[a] = Math.min(lo[a]!, ijk[a]!);
      hi[a] = Math.max(hi[a]!, ijk[a]!);
    }
  }
  return lo[0] === Infinity ? undefined : { lo, hi };
}

/** Even-odd point-in-polygon test. */
export function insidePolygon(poly: [number, number][], x: number, y: number): boolean {
  let c = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i]!;
    const [xj, yj] = poly[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) c = !c;
  }
  return c;
}
