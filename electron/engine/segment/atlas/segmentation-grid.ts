/**
 * The grid the atlas computes contours on. Warping a template's mask and CT, its local similarity
 * map, joint label fusion and the intensity model all scale with the query's voxels: a clinical
 * head-and-neck CT (512 x 512 pixels of about 1 mm, 2-3 mm slices) has 16 times the voxels per slice
 * of a 4 mm grid, and made a query several minutes long. Where the query is finer than
 * segmentationSpacingMm, contours are computed on a coarser grid over the same field of view
 * (registration/image.ts downsample: anti-aliased, same direction and extent) and the posterior
 * membership is interpolated back onto the query's own grid before it is thresholded, so the
 * contour's edge falls between coarse voxel centres rather than on their blocks.
 */
import type { Geometry } from '../../volume/geometry.js';
import type { Volume } from '../../volume/volume.js';
import { downsample, patientToVoxelMatrix, sampleVoxel, voxelToPatientMatrix } from '../../registration/image.js';
import { applyMat34, composeMat34 } from '../../registration/transform.js';

/** The coarser grid per query volume and spacing, held weakly (a localize and a segment share it). */
const grids = new WeakMap<Volume, { spacingMm: number; grid: WeakRef<Volume<Float32Array>> }>();

/**
 * The query resampled so no axis is finer than `spacingMm`, or undefined when it already is not
 * (then contours are computed on the query's own grid). 0 keeps every query's own grid.
 */
export function segmentationGrid(volume: Volume, spacingMm: number): Volume<Float32Array> | undefined {
  if (!(spacingMm > 0) || volume.spacing.every((s) => spacingMm / s < 1.01)) return undefined;
  const known = grids.get(volume);
  const hit = known?.spacingMm === spacingMm ? known.grid.deref() : undefined;
  if (hit) return hit;
  const grid = downsample({ ...volume, data: volume.data instanceof Float32Array ? volume.data : Float32Array.from(volume.data) }, spacingMm);
  grids.set(volume, { spacingMm, grid: new WeakRef(grid) });
  return grid;
}

/**
 * The mask `membership >= threshold` on the grid `fine`, the membership (on `coarse`) interpolated
 * trilinearly at each fine voxel centre (beyond the outermost coarse centres, which sit half a coarse
 * voxel inside the field of view, the nearest edge value: a structure cut by the scan's edge stays
 * cut there, not half a voxel short). Only the fine voxels near coarse
 * voxels at or above the threshold are visited: a trilinear value reaches it only if a corner does.
 */
export function membershipOnGrid(membership: Float32Array, coarse: Geometry, fine: Geometry, threshold: number): Uint8Array {
  const [fx, fy, fz] = fine.dims;
  const mask = new Uint8Array(fx * fy * fz);
  const [cx, cy, cz] = coarse.dims;
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  let q = 0;
  for (let k = 0; k < cz; k++) {
    for (let j = 0; j < cy; j++) {
      for (let i = 0; i < cx; i++, q++) {
        if (!(membership[q]! >= threshold)) continue;
        const v = [i, j, k];
        for (let a = 0; a < 3; a++) {
          lo[a] = Math.min(lo[a]!, v[a]!);
          hi[a] = Math.max(hi[a]!, v[a]!);
        }
      }
    }
  }
  if (lo[0] === Infinity) return mask;
  // The fine index box of the coarse box grown by one voxel: map its corners.
  const toFine = composeMat34(patientToVoxelMatrix(fine), voxelToPatientMatrix(coarse));
  const flo = [Infinity, Infinity, Infinity];
  const fhi = [-Infinity, -Infinity, -Infinity];
  for (let c = 0; c < 8; c++) {
    const corner = [0, 1, 2].map((a) => ((c >> a) & 1 ? hi[a]! + 1 : lo[a]! - 1)) as [number, number, number];
    const f = applyMat34(toFine, corner);
    for (let a = 0; a < 3; a++) {
      flo[a] = Math.min(flo[a]!, f[a]!);
      fhi[a] = Math.max(fhi[a]!, f[a]!);
    }
  }
  const i0 = [0, 1, 2].map((a) => Math.max(0, Math.floor(flo[a]!)));
  const i1 = [0, 1, 2].map((a) => Math.min(fine.dims[a]! - 1, Math.ceil(fhi[a]!)));
  const toCoarse = composeMat34(patientToVoxelMatrix(coarse), voxelToPatientMatrix(fine));
  const src = { ...coarse, data: membership };
  for (let k = i0[2]!; k <= i1[2]!; k++) {
    for (let j = i0[1]!; j <= i1[1]!; j++) {
      for (let i = i0[0]!; i <= i1[0]!; i++) {
        const v = applyMat34(toCoarse, [i, j, k]);
        const x = Math.min(Math.max(v[0], 0), cx - 1);
        const y = Math.min(Math.max(v[1], 0), cy - 1);
        const z = Math.min(Math.max(v[2], 0), cz - 1);
        if (sampleVoxel(src, x, y, z, 0) >= threshold) mask[i + fx * (j + fy * k)] = 1;
      }
    }
  }
  return mask;
}
