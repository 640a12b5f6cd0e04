/**
 * Interpolation between edited slices of a mask (the review screen's "Interpolate"): every run of
 * empty slices between two non-empty ones, along one grid axis, is filled by shape-based
 * interpolation (Raya & Udupa, IEEE TMI 1990; Herman, Zheng & Bucholtz, IEEE CG&A 1992): each bounding
 * slice becomes a signed distance map (mm, negative inside, with the in-plane spacing), the maps are
 * blended linearly by the position between the two slices, and the blend's sub-zero set is the new
 * slice. Before blending, both maps are shifted so that the two regions' centroids meet at the
 * interpolated centroid: plain shape-based interpolation shrinks a region that moves between the
 * slices (the blend of two distance maps is an intersection-like shape), centroid alignment makes a
 * moving region move. Slicer's "Fill between slices" uses ITK's morphological contour interpolation (Albu et al.
 * 2008), which matches regions by overlap and interpolates by morphology; for one region per slice
 * (the edit case) both give the in-between shape that moves and scales linearly, which the unit test
 * measures. @itk-wasm/morphological-contour-interpolation was not used: the one-region case does
 * not need it, and its WebAssembly pipeline would be a second runtime to load in the renderer.
 *
 * Pure code on plain arrays (i fastest, then j, then k), shared by the renderer and the tests.
 */

import { squaredDistanceTransform } from '../metrics/edt.js';

type Vec3 = [number, number, number];

/** Signed distance (mm) of a binary slice: negative inside (distance to the outside), positive outside. */
export function signedDistance(slice: Uint8Array, w: number, h: number, sx: number, sy: number): Float64Array {
  const outside = slice.map((v) => (v === 0 ? 1 : 0));
  const toInside = squaredDistanceTransform(slice, [w, h, 1], [sx, sy, 1]);
  const toOutside = squaredDistanceTransform(outside, [w, h, 1], [sx, sy, 1]);
  const out = new Float64Array(w * h);
  // Half a pixel each way puts the zero level on the boundary between inside and outside pixels.
  for (let p = 0; p < w * h; p++) out[p] = slice[p] ? -(Math.sqrt(toOutside[p]!) - 0.5 * Math.min(sx, sy)) : Math.sqrt(toInside[p]!) - 0.5 * Math.min(sx, sy);
  return out;
}

/** The two in-plane axes of a slice across `axis`, in grid order. */
function planeAxes(axis: 0 | 1 | 2): [number, number] {
  return axis === 0 ? [1, 2] : axis === 1 ? [0, 2] : [0, 1];
}

function sliceOf(mask: ArrayLike<number>, dims: Vec3, axis: 0 | 1 | 2, s: number): Uint8Array {
  const [u, v] = planeAxes(axis);
  const w = dims[u]!;
  const h = dims[v]!;
  const out = new Uint8Array(w * h);
  const stride: Vec3 = [1, dims[0], dims[0] * dims[1]];
  for (let b = 0; b < h; b++) for (let a = 0; a < w; a++) out[a + w * b] = mask[s * stride[axis] + a * stride[u]! + b * stride[v]!] ? 1 : 0;
  return out;
}

function centroid(slice: Uint8Array, w: number, h: number): [number, number] {
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (slice[x + w * y]) { sx += x; sy += y; n++; }
  return [sx / n, sy / n];
}

/** Bilinear sample of a distance map; outside the slice, the nearest edge value plus the distance beyond it. */
function sample(d: Float64Array, w: number, h: number, x: number, y: number, sx: number, sy: number): number {
  const cx = Math.min(Math.max(x, 0), w - 1);
  const cy = Math.min(Math.max(y, 0), h - 1);
  const x0 = Math.min(Math.floor(cx), w - 2 < 0 ? 0 : w - 2);
  const y0 = Math.min(Math.floor(cy), h - 2 < 0 ? 0 : h - 2);
  const x1 = Math.min(x0 + 1, w - 1);
  const y1 = Math.min(y0 + 1, h - 1);
  const fx = cx - x0;
  const fy = cy - y0;
  const v = (1 - fy) * ((1 - fx) * d[x0 + w * y0]! + fx * d[x1 + w * y0]!) + fy * ((1 - fx) * d[x0 + w * y1]! + fx * d[x1 + w * y1]!);
  return v + Math.hypot((x - cx) * sx, (y - cy) * sy);
}

export interface InterpolationResult {
  mask: Uint8Array;
  /** The slice indices (along `axis`) that were filled. */
  filled: number[];
}

/**
 * Fills the empty slices between non-empty ones along `axis` (0 = i, 1 = j, 2 = k). Slices that hold
 * voxels are never changed.
 */
export function interpolateGaps(mask: ArrayLike<number>, dims: Vec3, spacing: Vec3, axis: 0 | 1 | 2): InterpolationResult {
  const [u, v] = planeAxes(axis);
  const w = dims[u]!;
  const h = dims[v]!;
  const stride: Vec3 = [1, dims[0], dims[0] * dims[1]];
  const out = Uint8Array.from(mask, (x) => (x ? 1 : 0));
  const nonEmpty: number[] = [];
  for (let s = 0; s < dims[axis]; s++) if (sliceOf(out, dims, axis, s).some((x) => x)) nonEmpty.push(s);
  const filled: number[] = [];
  for (let g = 0; g + 1 < nonEmpty.length; g++) {
    const a = nonEmpty[g]!;
    const b = nonEmpty[g + 1]!;
    if (b - a < 2) continue;
    const sa = sliceOf(out, dims, axis, a);
    const sb = sliceOf(out, dims, axis, b);
    const [sx, sy] = [spacing[u]!, spacing[v]!];
    const da = signedDistance(sa, w, h, sx, sy);
    const db = signedDistance(sb, w, h, sx, sy);
    const ca = centroid(sa, w, h);
    const cb = centroid(sb, w, h);
    for (let s = a + 1; s < b; s++) {
      const t = (s - a) / (b - a);
      const c = [(1 - t) * ca[0] + t * cb[0], (1 - t) * ca[1] + t * cb[1]];
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        const va = sample(da, w, h, x - c[0]! + ca[0], y - c[1]! + ca[1], sx, sy);
        const vb = sample(db, w, h, x - c[0]! + cb[0], y - c[1]! + cb[1], sx, sy);
        if ((1 - t) * va + t * vb <= 0) out[s * stride[axis] + x * stride[u]! + y * stride[v]!] = 1;
      }
      filled.push(s);
    }
  }
  return { mask: out, filled };
}
