/**
 * 3D mask -> per-slice CLOSED_PLANAR rings in LPS mm.
 *
 * Marching squares comes from d3-contour (`smooth(false)`, threshold 0.5). On a binary grid its
 * vertices are the midpoints of the voxel edges between an inside and an outside voxel, so its rings
 * cut every convex corner by half a voxel (a one-voxel mask becomes a diamond of half the area). We
 * restore the exact voxel-edge outline by inserting the voxel corner that each corner-cutting segment
 * passes by; saddle cells (two diagonal voxels) keep the cut so that rings never touch themselves or
 * each other. The result encloses exactly the voxels whose centres are inside, so rasterising it back
 * with the even-odd rule (rasterize.ts) returns the same mask, and a TPS computes the same volume.
 * Holes come out as separate inner rings and islands as separate rings (PS3.3 C.8.8.6.3).
 */
import { contours as d3contours } from 'd3-contour';
import { InputError } from '../errors.js';
import { voxelToPatient, type Geometry } from '../volume/geometry.js';
import { removeCollinear, signedArea2, simplifyRing, type Pt } from './simplify.js';
import type { MaskToContoursOptions, PlanarContour } from './types.js';

/** Rings of one 2D binary slice (row-major, `w` columns, `h` rows) in continuous voxel coordinates (i, j). */
export function sliceRings(slice: ArrayLike<number>, w: number, h: number): Pt[][] {
  // Crop to the bounding box: d3-contour closes rings at the grid border, so no padding is needed.
  let i0 = w;
  let i1 = -1;
  let j0 = h;
  let j1 = -1;
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      if (slice[i + w * j]) {
        if (i < i0) i0 = i;
        if (i > i1) i1 = i;
        if (j < j0) j0 = j;
        if (j > j1) j1 = j;
      }
    }
  }
  if (i1 < 0) return [];
  const cw = i1 - i0 + 1;
  const ch = j1 - j0 + 1;
  const crop = new Float64Array(cw * ch);
  for (let j = 0; j < ch; j++) {
    for (let i = 0; i < cw; i++) crop[i + cw * j] = slice[i + i0 + w * (j + j0)] ? 1 : 0;
  }
  const inside = (x: number, y: number): boolean => x >= 0 && y >= 0 && x < cw && y < ch && crop[x + cw * y] === 1;
  const isSaddle = (cx: number, cy: number): boolean => {
    const a = inside(cx - 1, cy - 1);
    const b = inside(cx, cy - 1);
    const c = inside(cx - 1, cy);
    const d = inside(cx, cy);
    return a === d && b === c && a !== b;
  };
  const [mp] = d3contours().size([cw, ch]).smooth(false).thresholds([0.5])(crop as unknown as number[]);
  const rings: Pt[][] = [];
  if (!mp) return rings;
  for (const polygon of mp.coordinates) {
    for (const raw of polygon) {
      // d3 repeats the first vertex at the end; its pixel (x, y) covers [x, x+1] x [y, y+1].
      const ring = raw.slice(0, raw.length - 1) as Pt[];
      const full: Pt[] = [];
      for (let n = 0; n < ring.length; n++) {
        const a = ring[n]!;
        const b = ring[(n + 1) % ring.length]!;
        full.push(a);
        const aXint = Number.isInteger(a[0]);
        const bXint = Number.isInteger(b[0]);
        // A segment from a vertical edge to a horizontal one (or back) cuts the corner between them.
        let corner: Pt | undefined;
        if (aXint && !bXint) corner = [a[0], b[1]];
        else if (!aXint && bXint) corner = [b[0], a[1]];
        if (corner && !isSaddle(corner[0], corner[1])) full.push(corner);
      }
      const clean = removeCollinear(full);
      if (clean.length < 3 || Math.abs(signedArea2(clean)) < 1e-9) continue;
      // Back to voxel indices of the full grid: pixel centre x + 0.5 is voxel i = x + i0.
      rings.push(clean.map(([x, y]) => [x - 0.5 + i0, y - 0.5 + j0]));
    }
  }
  return rings;
}

/**
 * Every ring of every slice of `mask` (voxels != 0 are inside), mapped through the grid's full
 * direction matrix, so oblique and non-axial grids give rings in their own slice planes.
 */
export function maskToContours(mask: Uint8Array, g: Geometry, opts: MaskToContoursOptions = {}): PlanarContour[] {
  const [w, h, d] = g.dims;
  if (mask.length !== w * h * d) {
    throw new InputError(`mask has ${mask.length} voxels, the grid ${w}x${h}x${d} needs ${w * h * d}`);
  }
  const tolMm = opts.simplifyMm ?? 0;
  const out: PlanarContour[] = [];
  const plane = w * h;
  const k0 = Math.max(0, opts.slices?.[0] ?? 0);
  const k1 = Math.min(d - 1, opts.slices?.[1] ?? d - 1);
  for (let k = k0; k <= k1; k++) {
    const slice = mask.subarray(k * plane, (k + 1) * plane);
    let any = false;
    for (let n = 0; n < plane; n++) {
      if (slice[n] !== 0) {
        any = true;
        break;
      }
    }
    if (!any) continue;
    for (const ring of sliceRings(slice, w, h)) {
      let r = ring;
      if (tolMm > 0) {
        // Simplify in mm within the slice plane (pixels may be anisotropic), then back to voxel units.
        const mm = r.map(([i, j]) => [i * g.spacing[0], j * g.spacing[1]] as Pt);
        r = simplifyRing(mm, tolMm).map(([x, y]) => [x / g.spacing[0], y / g.spacing[1]] as Pt);
      }
      if (r.length < 3 || Math.abs(signedArea2(r)) < 1e-9) continue;
      out.push({ sliceIndex: k, points: r.map(([i, j]) => voxelToPatient(g, [i, j, k])) });
    }
  }
  return out;
}
