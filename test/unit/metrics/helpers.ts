/** Hand-built masks and brute-force references for the metrics tests. */
import { prng } from '../../../electron/engine/prng.js';
import { IDENTITY, type Geometry, type Vec3 } from '../../../electron/engine/volume/geometry.js';

export function grid(dims: Vec3, spacing: Vec3 = [1, 1, 1], origin: Vec3 = [0, 0, 0], direction = IDENTITY): Geometry {
  return { dims, spacing, origin, direction };
}

/** 0/1 mask of the inclusive index box lo..hi. */
export function boxMask(dims: Vec3, lo: Vec3, hi: Vec3): Uint8Array {
  const m = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (let k = lo[2]; k <= hi[2]; k++)
    for (let j = lo[1]; j <= hi[1]; j++)
      for (let i = lo[0]; i <= hi[0]; i++) m[i + dims[0] * (j + dims[1] * k)] = 1;
  return m;
}

/** Voxels whose centre lies within radius (mm) of centre (mm, in index-times-spacing space). */
export function sphereMask(dims: Vec3, spacing: Vec3, centreMm: Vec3, radiusMm: number): Uint8Array {
  const m = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (let k = 0; k < dims[2]; k++)
    for (let j = 0; j < dims[1]; j++)
      for (let i = 0; i < dims[0]; i++) {
        const dx = i * spacing[0] - centreMm[0];
        const dy = j * spacing[1] - centreMm[1];
        const dz = k * spacing[2] - centreMm[2];
        if (dx * dx + dy * dy + dz * dz <= radiusMm * radiusMm) m[i + dims[0] * (j + dims[1] * k)] = 1;
      }
  return m;
}

/** Deterministic PRNG (mulberry32) so failures reproduce. */
export const rng = prng;

/** A random blob: the union of a few random ellipsoids, irregular enough to exercise every branch. */
export function randomBlob(dims: Vec3, spacing: Vec3, rand: () => number, parts = 4): Uint8Array {
  const m = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (let p = 0; p < parts; p++) {
    const c = [0, 1, 2].map((a) => (0.25 + 0.5 * rand()) * dims[a]! * spacing[a]!);
    const r = [0, 1, 2].map((a) => (0.08 + 0.2 * rand()) * dims[a]! * spacing[a]!);
    for (let k = 0; k < dims[2]; k++)
      for (let j = 0; j < dims[1]; j++)
        for (let i = 0; i < dims[0]; i++) {
          const x = (i * spacing[0] - c[0]!) / r[0]!;
          const y = (j * spacing[1] - c[1]!) / r[1]!;
          const z = (k * spacing[2] - c[2]!) / r[2]!;
          if (x * x + y * y + z * z <= 1) m[i + dims[0] * (j + dims[1] * k)] = 1;
        }
  }
  // Salt a few isolated voxels: single-voxel islands are surface on every side.
  for (let s = 0; s < 5; s++) m[Math.floor(rand() * m.length)] = 1;
  return m;
}

/** Shifts a mask by whole voxels (voxels moved outside are dropped). */
export function shifted(mask: Uint8Array, dims: Vec3, by: Vec3): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let k = 0; k < dims[2]; k++)
    for (let j = 0; j < dims[1]; j++)
      for (let i = 0; i < dims[0]; i++) {
        if (!mask[i + dims[0] * (j + dims[1] * k)]) continue;
        const a = i + by[0], b = j + by[1], c = k + by[2];
        if (a < 0 || b < 0 || c < 0 || a >= dims[0] || b >= dims[1] || c >= dims[2]) continue;
        out[a + dims[0] * (b + dims[1] * c)] = 1;
      }
  return out;
}

/** Brute force: surface voxels (6-connectivity, outside = background) as index triples. */
export function bruteSurface(mask: Uint8Array, dims: Vec3): Vec3[] {
  const at = (i: number, j: number, k: number): number =>
    i < 0 || j < 0 || k < 0 || i >= dims[0] || j >= dims[1] || k >= dims[2] ? 0 : mask[i + dims[0] * (j + dims[1] * k)]!;
  const out: Vec3[] = [];
  for (let k = 0; k < dims[2]; k++)
    for (let j = 0; j < dims[1]; j++)
      for (let i = 0; i < dims[0]; i++) {
        if (!at(i, j, k)) continue;
        if (!at(i - 1, j, k) || !at(i + 1, j, k) || !at(i, j - 1, k) || !at(i, j + 1, k) || !at(i, j, k - 1) || !at(i, j, k + 1)) out.push([i, j, k]);
      }
  return out;
}

/** Brute force: for each point of `from`, the distance (mm) to the nearest point of `to`. */
export function bruteDistances(from: Vec3[], to: Vec3[], spacing: Vec3): number[] {
  return from.map((p) => {
    let best = Infinity;
    for (const q of to) {
      const dx = (p[0] - q[0]) * spacing[0];
      const dy = (p[1] - q[1]) * spacing[1];
      const dz = (p[2] - q[2]) * spacing[2];
      const d = dx * dx + dy * dy + dz * dz;
      if (d < best) best = d;
    }
    return Math.sqrt(best);
  });
}
