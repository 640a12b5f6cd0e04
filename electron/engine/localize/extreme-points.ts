/**
 * Six extreme points of a structure from a label mask, by the MedLAM reference's rule
 * (openmedlab/MedLSAM MedLAM/detection_functions.py `extract_fg_cor`, `get_center_cor`;
 * data_process/data_process_func.py `get_bound_coordinate`, `divide_and_get_bounds`; parity README
 * quirks Q6 and Q7).
 *
 * The in-plane point of a bound is NOT a centroid: on the 2-D slice at the bound, with its axes
 * ordered (a-2, a-1) (that is (1,2) for axis 0, (2,0) for axis 1, (0,1) for axis 2), the nonzero
 * pixels are listed in C order and element len//2 is taken.
 *
 * Arrays here are C-order 3-D arrays with shape [n0, n1, n2] (last axis fastest). In the parity path
 * that is the reference's [z, y, x] array; for a Volume (i fastest) it is [k, j, i].
 */
import type { Vec3 } from '../volume/geometry.js';
import { voxelToPatient } from '../volume/geometry.js';
import type { LabelVolume } from '../volume/volume.js';

export type Shape3 = [number, number, number];

/** A binary view of a label array: voxel (a0, a1, a2) belongs to the structure. */
export interface MaskArray {
  shape: Shape3;
  /** C-order data; a voxel is inside when data[idx] === value. */
  data: ArrayLike<number>;
  value: number;
}

/** [min, max] nonzero index per axis, or undefined when the structure is absent. */
export function boundsOf(m: MaskArray, zRange?: [number, number]): { min: Shape3; max: Shape3 } | undefined {
  const [n0, n1, n2] = m.shape;
  const min: Shape3 = [Infinity, Infinity, Infinity];
  const max: Shape3 = [-Infinity, -Infinity, -Infinity];
  const z0 = zRange ? Math.max(0, zRange[0]) : 0;
  const z1 = zRange ? Math.min(n0, zRange[1]) : n0;
  let any = false;
  for (let a = z0; a < z1; a++) {
    for (let b = 0; b < n1; b++) {
      const row = (a * n1 + b) * n2;
      for (let c = 0; c < n2; c++) {
        if (m.data[row + c] !== m.value) continue;
        any = true;
        if (a < min[0]) min[0] = a;
        if (a > max[0]) max[0] = a;
        if (b < min[1]) min[1] = b;
        if (b > max[1]) max[1] = b;
        if (c < min[2]) min[2] = c;
        if (c > max[2]) max[2] = c;
      }
    }
  }
  return any ? { min, max } : undefined;
}

/**
 * The reference's in-plane point on the slice `index` of `axis`: the len//2-th nonzero pixel in C
 * order of the slice with axes (axis-2, axis-1). Returns the full 3-D point, or undefined if empty.
 */
export function medianPixelOnSlice(m: MaskArray, axis: 0 | 1 | 2, index: number): Vec3 | undefined {
  const [n0, n1, n2] = m.shape;
  const dims = [n0, n1, n2];
  const u = ((axis + 1) % 3) as 0 | 1 | 2; // axis-2 mod 3
  const v = ((axis + 2) % 3) as 0 | 1 | 2; // axis-1 mod 3
  const at = (p: number[]): boolean => m.data[(p[0]! * n1 + p[1]!) * n2 + p[2]!] === m.value;
  const p = [0, 0, 0];
  p[axis] = index;
  let count = 0;
  for (let a = 0; a < dims[u]!; a++) {
    p[u] = a;
    for (let b = 0; b < dims[v]!; b++) {
      p[v] = b;
      if (at(p)) count++;
    }
  }
  if (count === 0) return undefined;
  const want = Math.floor(count / 2);
  let seen = 0;
  for (let a = 0; a < dims[u]!; a++) {
    p[u] = a;
    for (let b = 0; b < dims[v]!; b++) {
      p[v] = b;
      if (at(p)) {
        if (seen === want) return [p[0]!, p[1]!, p[2]!];
        seen++;
      }
    }
  }
  return undefined;
}

/**
 * Reference 'extreme' mode (WPL): rows 0 min0, 1 min1, 2 min2, 3 max0, 4 max1, 5 max2, each the
 * point holding that bound (in the parity path: zmin, ymin, xmin, zmax, ymax, xmax).
 */
export function referenceExtremePoints(m: MaskArray): Vec3[] | undefined {
  const b = boundsOf(m);
  if (!b) return undefined;
  const rows: Vec3[] = [];
  for (const bound of [b.min, b.max]) {
    for (const axis of [0, 1, 2] as const) rows.push(medianPixelOnSlice(m, axis, bound[axis])!);
  }
  return rows;
}

/**
 * Number of SPL sub-parts for a structure from each template's axis-0 length (max - min, not +1):
 * min(minLen // sliceInterval, maxParts) when minLen > sliceInterval, else 0 (fall back to WPL).
 */
export function splitCount(zLengths: number[], sliceInterval: number, maxParts = 6): number {
  const minLen = Math.min(...zLengths);
  if (!(minLen > sliceInterval)) return 0;
  return Math.min(Math.floor(minLen / sliceInterval), maxParts);
}

/**
 * Reference 'split' mode (SPL): n parts along axis 0, 6 rows each (row = part*6 + point). Part i
 * masks [min0 + i*step, min0 + (i+1)*step), the last part [start, max0) (so its top slice is
 * excluded) but reports max0. Bounds on axes 1 and 2 come from the part; the axis-0 bounds are the
 * part's start/end. Each bound's in-plane point comes from the WHOLE structure's slice, stepping +1
 * along that axis while the slice is empty. Quirks kept: an empty part reuses the previous part's
 * in-plane bounds, and a search that runs off the array keeps the previous in-plane point.
 */
export function referenceSplitExtremePoints(m: MaskArray, splitNum: number): Vec3[] | undefined {
  const whole = boundsOf(m);
  if (!whole || splitNum <= 0) return undefined;
  const step = Math.floor((whole.max[0] - whole.min[0]) / splitNum);
  const rows: Vec3[] = [];
  let curMin: Shape3 = [...whole.min];
  let curMax: Shape3 = [...whole.max];
  let last: Vec3 = [0, 0, 0];
  for (let i = 0; i < splitNum; i++) {
    const start = whole.min[0] + i * step;
    const end = i < splitNum - 1 ? start + step : whole.max[0];
    const part = boundsOf(m, [start, end]);
    if (part) {
      curMin = part.min;
      curMax = part.max;
    }
    curMin[0] = start;
    curMax[0] = end;
    for (const bound of [curMin, curMax]) {
      for (const axis of [0, 1, 2] as const) {
        let idx = bound[axis];
        let found: Vec3 | undefined;
        while (idx < m.shape[axis]) {
          found = medianPixelOnSlice(m, axis, idx);
          if (found) break;
          idx++;
        }
        if (found) last = found;
        const row: Vec3 = [last[0], last[1], last[2]];
        row[axis] = bound[axis];
        rows.push(row);
      }
    }
  }
  return rows;
}

/**
 * Six LPS points of label `value` in a product label volume, in the stored template order
 * (store/extreme-order.ts): [right (min x), left (max x), anterior (min y), posterior (max y),
 * inferior (min z), superior (max z)]. The bound planes are the volume's own (DESIGN.md "Templates":
 * for each axis of the volume, the lowest and the highest point); each volume axis is assigned to the
 * patient axis it runs along, and the point on each bound plane follows the reference's median-pixel
 * rule above (on the [k, j, i] array). Returns undefined when the label is absent.
 */
export function extremePointsFromLabels(labels: LabelVolume, value: number): Vec3[] | undefined {
  const [ni, nj, nk] = labels.dims;
  const rows = referenceExtremePoints({ shape: [nk, nj, ni], data: labels.data, value });
  if (!rows) return undefined;
  // rows: 0 kMin, 1 jMin, 2 iMin, 3 kMax, 4 jMax, 5 iMax, each as [k, j, i].
  const lps = rows.map((p) => voxelToPatient(labels, [p[2], p[1], p[0]]));
  const out: Vec3[] = new Array<Vec3>(6);
  for (const [volAxis, lo, hi] of [[0, 2, 5], [1, 1, 4], [2, 0, 3]] as const) {
    const d = labels.direction;
    const col = [d[volAxis], d[3 + volAxis], d[6 + volAxis]];
    let pat = 0;
    for (const c of [1, 2]) if (Math.abs(col[c]!) > Math.abs(col[pat]!)) pat = c;
    const a = lps[lo]!;
    const b = lps[hi]!;
    const [min, max] = a[pat]! <= b[pat]! ? [a, b] : [b, a];
    out[2 * pat] = min;
    out[2 * pat + 1] = max;
  }
  return out;
}
