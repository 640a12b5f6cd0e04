/**
 * Binary-mask helpers for the metrics: index bounding boxes, padded crops and surface voxels.
 * Masks are Uint8Array on a grid (non-zero = inside), laid out as Volume data: i fastest, then j, k.
 */
import type { Vec3 } from '../volume/geometry.js';

/** Inclusive voxel-index extents of a mask. */
export interface IndexBox {
  lo: Vec3;
  hi: Vec3;
}

/** The mask's inclusive index bounding box, or undefined when it is empty. */
export function maskIndexBox(mask: Uint8Array, dims: Vec3): IndexBox | undefined {
  const [nx, ny, nz] = dims;
  let loI = nx, loJ = ny, loK = nz, hiI = -1, hiJ = -1, hiK = -1;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const base = nx * (j + ny * k);
      let first = -1;
      for (let i = 0; i < nx; i++) {
        if (mask[base + i] !== 0) {
          first = i;
          break;
        }
      }
      if (first < 0) continue;
      let last = first;
      for (let i = nx - 1; i > first; i--) {
        if (mask[base + i] !== 0) {
          last = i;
          break;
        }
      }
      if (first < loI) loI = first;
      if (last > hiI) hiI = last;
      if (j < loJ) loJ = j;
      if (j > hiJ) hiJ = j;
      if (k < loK) loK = k;
      hiK = k;
    }
  }
  return hiK < 0 ? undefined : { lo: [loI, loJ, loK], hi: [hiI, hiJ, hiK] };
}

/** The smallest index box holding both (either may be undefined). */
export function unionIndexBox(a: IndexBox | undefined, b: IndexBox | undefined): IndexBox | undefined {
  if (!a) return b;
  if (!b) return a;
  return {
    lo: [Math.min(a.lo[0], b.lo[0]), Math.min(a.lo[1], b.lo[1]), Math.min(a.lo[2], b.lo[2])],
    hi: [Math.max(a.hi[0], b.hi[0]), Math.max(a.hi[1], b.hi[1]), Math.max(a.hi[2], b.hi[2])],
  };
}

/**
 * Copies box (grown by `pad` voxels on every side) out of the mask, as 0/1. Voxels of the grown box
 * that fall outside the grid read as background: the grid's outside is outside the organ, as in
 * scipy's binary_erosion with border_value=0.
 */
export function cropMask(mask: Uint8Array, dims: Vec3, box: IndexBox, pad: number): { data: Uint8Array; dims: Vec3; lo: Vec3 } {
  const lo: Vec3 = [box.lo[0] - pad, box.lo[1] - pad, box.lo[2] - pad];
  const cd: Vec3 = [box.hi[0] - box.lo[0] + 1 + 2 * pad, box.hi[1] - box.lo[1] + 1 + 2 * pad, box.hi[2] - box.lo[2] + 1 + 2 * pad];
  const out = new Uint8Array(cd[0] * cd[1] * cd[2]);
  const [nx, ny, nz] = dims;
  const i0 = Math.max(0, lo[0]);
  const i1 = Math.min(nx - 1, lo[0] + cd[0] - 1);
  for (let ck = 0; ck < cd[2]; ck++) {
    const k = lo[2] + ck;
    if (k < 0 || k >= nz) continue;
    for (let cj = 0; cj < cd[1]; cj++) {
      const j = lo[1] + cj;
      if (j < 0 || j >= ny) continue;
      const src = nx * (j + ny * k);
      const dst = cd[0] * (cj + cd[1] * ck) - lo[0];
      for (let i = i0; i <= i1; i++) out[dst + i] = mask[src + i] !== 0 ? 1 : 0;
    }
  }
  return { data: out, dims: cd, lo };
}

/**
 * Surface voxels: inside voxels with at least one face neighbour (6-connectivity) outside, i.e.
 * mask XOR erosion(mask) with scipy's generate_binary_structure(3, 1), as medpy's
 * __surface_distances (the evaluation code MedLSAM ships, util/evaluation_index.py) takes it.
 * Voxels on the array's border count as surface (outside the array is background).
 */
export function surfaceVoxels(mask: Uint8Array, dims: Vec3): Uint8Array {
  const [nx, ny, nz] = dims;
  const sy = nx;
  const sz = nx * ny;
  const out = new Uint8Array(mask.length);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const base = nx * (j + ny * k);
      for (let i = 0; i < nx; i++) {
        const p = base + i;
        if (mask[p] === 0) continue;
        if (
          i === 0 || i === nx - 1 || j === 0 || j === ny - 1 || k === 0 || k === nz - 1 ||
          mask[p - 1] === 0 || mask[p + 1] === 0 ||
          mask[p - sy] === 0 || mask[p + sy] === 0 ||
          mask[p - sz] === 0 || mask[p + sz] === 0
        ) {
          out[p] = 1;
        }
      }
    }
  }
  return out;
}

export function countNonZero(mask: Uint8Array): number {
  let n = 0;
  for (let p = 0; p < mask.length; p++) if (mask[p] !== 0) n++;
  return n;
}

/** Voxels inside both masks (same grid). */
export function countIntersection(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let p = 0; p < a.length; p++) if (a[p] !== 0 && b[p] !== 0) n++;
  return n;
}
