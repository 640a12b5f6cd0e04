/**
 * Planar contours -> mask on a grid, even-odd rule: on each slice all rings of a structure are
 * combined by parity, so a ring inside another is a hole and a ring inside a hole is an island
 * (PS3.3 C.8.8.6.3). A voxel is inside when its centre is inside. Rings are assigned to the slice
 * their points lie on (projection along the grid's k axis); points off every slice plane by more than
 * `sliceToleranceMm` are reported, not silently moved.
 */
import { patientToVoxel, type Geometry, type Vec3 } from '../volume/geometry.js';
import type { Pt } from './simplify.js';

export interface RasterizeResult {
  mask: Uint8Array;
  /** Rings that were not rasterised, with why (off every slice, outside the grid, not planar). */
  skipped: Array<{ ring: number; reason: string }>;
}

/** Voxel-index ring on a slice, or a reason it has none. */
export function ringToSlice(
  points: Vec3[],
  g: Geometry,
  sliceToleranceMm = 0.05,
): { k: number; ring: Pt[] } | { reason: string } {
  if (points.length < 3) return { reason: `${points.length} points` };
  const vox = points.map((p) => patientToVoxel(g, p));
  const ks = vox.map((v) => v[2]);
  const kMean = ks.reduce((a, b) => a + b, 0) / ks.length;
  const k = Math.round(kMean);
  const tolK = sliceToleranceMm / g.spacing[2];
  // A loop, not Math.max(...): spreading a contour of ~10^5+ points overflows the call stack.
  let worst = 0;
  for (const x of ks) worst = Math.max(worst, Math.abs(x - k));
  if (worst > tolK) {
    return { reason: `points lie ${(worst * g.spacing[2]).toFixed(3)} mm from slice plane ${k}` };
  }
  if (k < 0 || k >= g.dims[2]) return { reason: `slice ${k} is outside the grid (0..${g.dims[2] - 1})` };
  return { k, ring: vox.map((v) => [v[0], v[1]]) };
}

/** Fills one slice (w x h, row-major) with the even-odd union of `rings` (voxel coordinates). */
export function fillSlice(out: Uint8Array, offset: number, w: number, h: number, rings: Pt[][]): void {
  let yMin = Infinity;
  let yMax = -Infinity;
  for (const r of rings) for (const p of r) { if (p[1] < yMin) yMin = p[1]; if (p[1] > yMax) yMax = p[1]; }
  const j0 = Math.max(0, Math.ceil(yMin));
  const j1 = Math.min(h - 1, Math.floor(yMax));
  const xs: number[] = [];
  for (let j = j0; j <= j1; j++) {
    xs.length = 0;
    for (const r of rings) {
      for (let n = 0; n < r.length; n++) {
        const a = r[n]!;
        const b = r[(n + 1) % r.length]!;
        // Half-open rule: an edge counts when the scanline is in [min y, max y), so shared vertices count once.
        if ((a[1] <= j && b[1] > j) || (b[1] <= j && a[1] > j)) {
          xs.push(a[0] + ((j - a[1]) * (b[0] - a[0])) / (b[1] - a[1]));
        }
      }
    }
    xs.sort((p, q) => p - q);
    for (let n = 0; n + 1 < xs.length; n += 2) {
      const iStart = Math.max(0, Math.ceil(xs[n]!));
      const iEnd = Math.min(w - 1, Math.ceil(xs[n + 1]!) - 1);
      for (let i = iStart; i <= iEnd; i++) out[offset + i + w * j] = 1;
    }
  }
}

/** Rasterises rings given in LPS mm onto the grid `g`. */
export function contoursToMask(rings: Vec3[][], g: Geometry, sliceToleranceMm = 0.05): RasterizeResult {
  const [w, h, d] = g.dims;
  const mask = new Uint8Array(w * h * d);
  const bySlice = new Map<number, Pt[][]>();
  const skipped: RasterizeResult['skipped'] = [];
  rings.forEach((pts, idx) => {
    const r = ringToSlice(pts, g, sliceToleranceMm);
    if ('reason' in r) {
      skipped.push({ ring: idx, reason: r.reason });
      return;
    }
    const list = bySlice.get(r.k) ?? [];
    list.push(r.ring);
    bySlice.set(r.k, list);
  });
  for (const [k, list] of bySlice) fillSlice(mask, k * w * h, w, h, list);
  return { mask, skipped };
}
