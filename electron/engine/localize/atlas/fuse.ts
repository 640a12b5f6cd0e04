/**
 * Fusing several templates' mapped points into one localization, and the box rule.
 *
 * Box: as MedLAM does (DESIGN.md step 8, reference MedLAM_Inference.py): each box face comes from
 * its designated point (the box's low face along an axis from the point that marks the organ's
 * lowest extent on that axis, ...), after swapping a pair that came out reversed. Points come
 * ordered per template volume axis [iMin, iMax, jMin, jMax, kMin, kMax]; pair a therefore designates
 * the LPS axis that template axis a runs along.
 */
import type { Mat3, Vec3 } from '../../volume/geometry.js';
import type { Box, StructureFlag } from '../localizer.js';

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Point-wise, coordinate-wise median of several sets of points (same order in each). */
export function medianPoints(sets: Vec3[][]): Vec3[] {
  const n = sets[0]?.length ?? 0;
  const out: Vec3[] = [];
  for (let p = 0; p < n; p++) out.push([0, 1, 2].map((a) => median(sets.map((s) => s[p]![a]!))) as Vec3);
  return out;
}

/** The LPS axis (0 L, 1 P, 2 S) that each template volume axis runs along most. */
export function lpsAxesOf(direction: Mat3): [number, number, number] {
  const out: number[] = [];
  for (let c = 0; c < 3; c++) {
    const col = [Math.abs(direction[c]!), Math.abs(direction[3 + c]!), Math.abs(direction[6 + c]!)];
    out.push(col.indexOf(Math.max(...col)));
  }
  return out as [number, number, number];
}

/** Box from six designated points; falls back to the points' bounds when the axes are ambiguous. */
export function boxFromPoints(points: Vec3[], axes: [number, number, number] = [0, 1, 2]): Box {
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  const distinct = new Set(axes).size === 3 && points.length === 6;
  if (distinct) {
    for (let pair = 0; pair < 3; pair++) {
      const a = axes[pair]!;
      const u = points[2 * pair]![a]!;
      const v = points[2 * pair + 1]![a]!;
      min[a] = Math.min(u, v); // a reversed pair is swapped, as the reference does
      max[a] = Math.max(u, v);
    }
    return { min, max };
  }
  for (const p of points) {
    for (let a = 0; a < 3; a++) {
      min[a] = Math.min(min[a]!, p[a]!);
      max[a] = Math.max(max[a]!, p[a]!);
    }
  }
  return { min, max };
}

/**
 * Confidence in 0..1: the mean local NCC of the registrations (how well the template's
 * neighbourhood matched the query), times template agreement exp(-spread / 20 mm), spread being the
 * median distance of the templates' points to the fused points. One template: NCC alone, times 0.8
 * (nothing to agree with).
 */
export function confidenceOf(nccs: number[], sets: Vec3[][], fused: Vec3[]): number {
  const ncc = Math.max(0, Math.min(1, nccs.reduce((a, b) => a + b, 0) / Math.max(1, nccs.length)));
  if (sets.length < 2) return 0.8 * ncc;
  const d: number[] = [];
  for (const s of sets) for (let p = 0; p < fused.length; p++) d.push(Math.hypot(s[p]![0] - fused[p]![0], s[p]![1] - fused[p]![1], s[p]![2] - fused[p]![2]));
  return ncc * Math.exp(-median(d) / 20);
}

/** The query volume's extent in LPS (voxel centres), as a box. */
export function volumeBox(corners: Vec3[]): Box {
  return boxFromPoints(corners, [0, 0, 0]);
}

/**
 * Flags against the query's extent: 'absent' when the box lies wholly outside, 'cut-off' when it
 * crosses a face (the box is then clipped to the volume); 'low-confidence' below 0.3.
 */
export function flagBox(box: Box, extent: Box, tolMm: number, confidence: number): { box: Box; flags: StructureFlag[] } {
  const flags: StructureFlag[] = [];
  let outside = false;
  let crosses = false;
  const min = [...box.min] as Vec3;
  const max = [...box.max] as Vec3;
  for (let a = 0; a < 3; a++) {
    if (box.max[a]! < extent.min[a]! - tolMm || box.min[a]! > extent.max[a]! + tolMm) outside = true;
    if (box.min[a]! < extent.min[a]! - tolMm || box.max[a]! > extent.max[a]! + tolMm) crosses = true;
    min[a] = Math.max(min[a]!, extent.min[a]!);
    max[a] = Math.min(max[a]!, extent.max[a]!);
  }
  if (outside) flags.push('absent');
  else if (crosses) flags.push('cut-off');
  if (confidence < 0.3) flags.push('low-confidence');
  return { box: outside ? box : { min, max }, flags };
}
