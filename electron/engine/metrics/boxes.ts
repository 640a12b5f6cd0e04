/**
 * Box metrics for localisation, as MedLSAM reports them (Lei et al., MedIA 2024; reference code
 * MedLAM/detection_functions.py `iou` and `wd`, called from MedLAM_Inference.py):
 * - 3D IoU of two axis-aligned boxes;
 * - wall distance: the mean, over the six faces, of the absolute distance (mm) between corresponding
 *   faces (`np.mean(wd(...))`: the per-axis mean of |min - min'| and |max - max'| times the spacing,
 *   then averaged over the three axes).
 *
 * Boxes are axis-aligned in LPS mm (the Localizer's Box). Convention, which matters for IoU only:
 * - 'centres' (default): a mask's box runs from its extreme voxel CENTRES, as the reference's
 *   get_bound_coordinate gives voxel indices and its iou takes (max - min) as the side length, and as
 *   the localizer's boxes are built from extreme points, which are voxel centres. A localizer box that
 *   hits the organ's extreme voxels exactly therefore scores IoU 1 and wall distance 0.
 * - 'edges': every box grows by half a voxel on each face (the voxels' outer faces), so a one-slice
 *   organ has a non-zero thickness. Applied to reference and prediction alike, wall distance is
 *   unchanged; IoU grows for thin organs.
 */
import { voxelToPatient, type Geometry, type Vec3 } from '../volume/geometry.js';
import type { Box } from '../localize/localizer.js';
import { maskIndexBox, type IndexBox } from './masks.js';

export type BoxConvention = 'centres' | 'edges';

/** Box of the mask's voxel centres in LPS (exact for oblique grids too), or undefined if empty. */
export function maskBoxLps(mask: Uint8Array, g: Geometry, convention: BoxConvention = 'centres', indexBox?: IndexBox): Box | undefined {
  const ib = indexBox ?? maskIndexBox(mask, g.dims);
  if (!ib) return undefined;
  const [nx, ny] = g.dims;
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  const take = (p: Vec3): void => {
    for (let a = 0; a < 3; a++) {
      if (p[a]! < min[a]!) min[a] = p[a]!;
      if (p[a]! > max[a]!) max[a] = p[a]!;
    }
  };
  // Each LPS coordinate is linear in i, so a row's extremes lie at its first and last inside voxel.
  for (let k = ib.lo[2]; k <= ib.hi[2]; k++) {
    for (let j = ib.lo[1]; j <= ib.hi[1]; j++) {
      const base = nx * (j + ny * k);
      let first = -1;
      for (let i = ib.lo[0]; i <= ib.hi[0]; i++) {
        if (mask[base + i] !== 0) {
          first = i;
          break;
        }
      }
      if (first < 0) continue;
      let last = first;
      for (let i = ib.hi[0]; i > first; i--) {
        if (mask[base + i] !== 0) {
          last = i;
          break;
        }
      }
      take(voxelToPatient(g, [first, j, k]));
      if (last !== first) take(voxelToPatient(g, [last, j, k]));
    }
  }
  const box = { min, max };
  return convention === 'edges' ? growToVoxelEdges(box, g) : box;
}

/** Grows a centre-convention box by half a voxel's extent along each LPS axis. */
export function growToVoxelEdges(box: Box, g: Geometry): Box {
  const d = g.direction;
  const s = g.spacing;
  const half = [0, 1, 2].map((r) => 0.5 * (Math.abs(d[3 * r]!) * s[0] + Math.abs(d[3 * r + 1]!) * s[1] + Math.abs(d[3 * r + 2]!) * s[2]));
  return {
    min: [box.min[0] - half[0]!, box.min[1] - half[1]!, box.min[2] - half[2]!],
    max: [box.max[0] + half[0]!, box.max[1] + half[1]!, box.max[2] + half[2]!],
  };
}

/** The box enclosing several (an SPL stack is scored by its enclosing box). */
export function enclosingBox(boxes: readonly Box[]): Box | undefined {
  if (boxes.length === 0) return undefined;
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (const b of boxes) {
    for (let a = 0; a < 3; a++) {
      // A box stored with min and max swapped on an axis is read as the interval it spans.
      const lo = Math.min(b.min[a]!, b.max[a]!);
      const hi = Math.max(b.min[a]!, b.max[a]!);
      if (lo < min[a]!) min[a] = lo;
      if (hi > max[a]!) max[a] = hi;
    }
  }
  return { min, max };
}

function volume(b: Box): number {
  return Math.max(0, b.max[0] - b.min[0]) * Math.max(0, b.max[1] - b.min[1]) * Math.max(0, b.max[2] - b.min[2]);
}

/**
 * Intersection over union of two LPS boxes. When both have zero volume (a one-slice organ in the
 * 'centres' convention) the ratio is 0/0; it is defined as 1 when the boxes coincide (within 1e-6 mm)
 * and 0 otherwise. The reference code returns NaN there.
 */
export function boxIou(a: Box, b: Box): number {
  let inter = 1;
  for (let ax = 0; ax < 3; ax++) {
    const side = Math.min(a.max[ax]!, b.max[ax]!) - Math.max(a.min[ax]!, b.min[ax]!);
    if (side < 0) {
      inter = 0;
      break;
    }
    inter *= side;
  }
  const union = volume(a) + volume(b) - inter;
  if (union <= 0) return wallDistanceMm(a, b) <= 1e-6 ? 1 : 0;
  return inter / union;
}

/** Mean absolute distance (mm) between the six corresponding faces of two LPS boxes. */
export function wallDistanceMm(a: Box, b: Box): number {
  let sum = 0;
  for (let ax = 0; ax < 3; ax++) sum += Math.abs(a.min[ax]! - b.min[ax]!) + Math.abs(a.max[ax]! - b.max[ax]!);
  return sum / 6;
}
