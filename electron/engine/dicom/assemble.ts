/**
 * Series geometry from slice headers (pure; unit-tested): sort by position along the slice normal
 * (never by InstanceNumber), derive spacing, origin and direction, and detect what makes a stack
 * unusable as one volume. PS3.3 C.7.6.2.1.1: ImageOrientationPatient gives the row (i) and column (j)
 * direction cosines; the slice normal k = row x column; ImagePositionPatient is the centre of the
 * first transmitted pixel.
 *
 * Decisions, stated:
 * - Slices whose orientation or matrix differs from the series' majority (a localizer/scout mixed
 *   into an axial series) are dropped with a reason.
 * - Gantry tilt (positions stepping off the slice normal) is refused, not resampled.
 * - A gap more than 5x the median slice step is refused (missing slices or stacked scans).
 * - Otherwise non-uniform spacing is accepted with a warning naming the gaps; the volume is placed on a
 *   uniform grid at the most common spacing and missing positions are interpolated linearly along
 *   the normal (volume/load.ts).
 * - Several images at one position: refused here; the importer first tries to split them into phases.
 */
import { UnsupportedError } from '../errors.js';
import { cross, dot, type Geometry, type Mat3, type Vec3 } from '../volume/geometry.js';

export interface SliceInput {
  id: string;
  position: Vec3 | null;
  orientation: readonly number[] | null;
  pixelSpacing: readonly number[] | null;
  rows: number;
  columns: number;
  imageType?: readonly string[];
}

export interface PlacedSlice<S extends SliceInput> {
  slice: S;
  /** Distance along the slice normal from the origin slice, mm. */
  distance: number;
  /** Index on the volume's k axis (the nearest when spacing is non-uniform). */
  k: number;
}

export interface Assembly<S extends SliceInput> {
  geometry: Geometry;
  slices: PlacedSlice<S>[];
  /** True when every slice sits on the uniform grid (no interpolation needed). */
  uniform: boolean;
  dropped: { slice: S; reason: string }[];
  warnings: string[];
}

const POS_TOL = 0.01; // mm: positions closer than this are "the same place"
/** A gap larger than this many median slice steps refuses the series. */
export const MAX_GAP_RATIO = 5;

function unit(v: Vec3): Vec3 {
  const n = Math.hypot(v[0], v[1], v[2]);
  return [v[0] / n, v[1] / n, v[2] / n];
}

function orientationKey(s: SliceInput): string {
  const o = s.orientation!.map((x) => x.toFixed(3)).join(',');
  const p = s.pixelSpacing!.map((x) => x.toFixed(4)).join(',');
  return `${o}|${p}|${s.rows}x${s.columns}`;
}

/** Direction matrix (row-major, columns = i, j, k) from ImageOrientationPatient. */
export function directionFromOrientation(iop: readonly number[]): Mat3 {
  const r = unit([iop[0]!, iop[1]!, iop[2]!]);
  const c = unit([iop[3]!, iop[4]!, iop[5]!]);
  const n = unit(cross(r, c));
  return [r[0], c[0], n[0], r[1], c[1], n[1], r[2], c[2], n[2]];
}

/** The most common value among gaps, each rounded to 0.01 mm (ties: the smaller). */
export function modalSpacing(gaps: number[]): number {
  const counts = new Map<number, number>();
  for (const g of gaps) {
    const r = Math.round(g * 100) / 100;
    counts.set(r, (counts.get(r) ?? 0) + 1);
  }
  let best = 0;
  let bestCount = -1;
  for (const [v, c] of counts) if (c > bestCount || (c === bestCount && v < best)) [best, bestCount] = [v, c];
  // Return the mean of the gaps that rounded to the mode: more precise than the rounded value.
  const near = gaps.filter((g) => Math.abs(Math.round(g * 100) / 100 - best) < 1e-9);
  return near.reduce((a, b) => a + b, 0) / near.length;
}

export function assembleSeries<S extends SliceInput>(input: S[], seriesLabel: string, fallbackSliceSpacing = 1): Assembly<S> {
  const dropped: { slice: S; reason: string }[] = [];
  const warnings: string[] = [];
  const usable: S[] = [];
  for (const s of input) {
    if (!s.position) dropped.push({ slice: s, reason: 'no ImagePositionPatient (0020,0032)' });
    else if (!s.orientation || s.orientation.length < 6) dropped.push({ slice: s, reason: 'no ImageOrientationPatient (0020,0037)' });
    else if (!s.pixelSpacing || s.pixelSpacing.length < 2 || !(s.pixelSpacing[0]! > 0) || !(s.pixelSpacing[1]! > 0)) {
      dropped.push({ slice: s, reason: 'no valid PixelSpacing (0028,0030)' });
    } else {
      const r: Vec3 = [s.orientation[0]!, s.orientation[1]!, s.orientation[2]!];
      const c: Vec3 = [s.orientation[3]!, s.orientation[4]!, s.orientation[5]!];
      const rn = Math.hypot(...r);
      const cn = Math.hypot(...c);
      if (rn < 0.5 || cn < 0.5 || Math.abs(dot(r, c) / (rn * cn)) > 1e-3) {
        dropped.push({ slice: s, reason: 'ImageOrientationPatient is not two orthogonal unit vectors' });
      } else usable.push(s);
    }
  }
  if (usable.length === 0) {
    const why = dropped[0] ? ` (${dropped[0].reason})` : '';
    throw new UnsupportedError(`series ${seriesLabel} has no slice with usable geometry${why}`, { seriesUid: seriesLabel });
  }
  // Majority orientation and matrix; the rest (localizers, reformats) is dropped.
  const groups = new Map<string, S[]>();
  for (const s of usable) {
    const k = orientationKey(s);
    const list = groups.get(k);
    if (list) list.push(s);
    else groups.set(k, [s]);
  }
  const main = [...groups.values()].sort((a, b) => b.length - a.length)[0]!;
  for (const g of groups.values()) {
    if (g === main) continue;
    for (const s of g) {
      const loc = s.imageType?.includes('LOCALIZER') ? 'localizer' : 'image';
      dropped.push({ slice: s, reason: `${loc} with a different orientation or matrix than the other ${main.length} slices of series ${seriesLabel}: dropped from the volume` });
    }
  }
  const first = main[0]!;
  const direction = directionFromOrientation(first.orientation!);
  const normal: Vec3 = [direction[2], direction[5], direction[8]];
  const sorted = main
    .map((s) => ({ s, d: dot(s.position!, normal) }))
    .sort((a, b) => a.d - b.d);
  // Several images at one position.
  const dupes: number[] = [];
  for (let i = 1; i < sorted.length; i++) if (sorted[i]!.d - sorted[i - 1]!.d < POS_TOL) dupes.push(sorted[i]!.d);
  if (dupes.length > 0) {
    throw new UnsupportedError(
      `series ${seriesLabel}: ${dupes.length} slice position(s) hold more than one image (for example ${dupes[0]!.toFixed(2)} mm along the normal); a 4D or repeated acquisition cannot be one volume: refused`,
      { seriesUid: seriesLabel },
    );
  }
  // Gantry tilt: consecutive positions must step along the normal.
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!.s.position!;
    const b = sorted[i]!.s.position!;
    const step: Vec3 = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
    const along = dot(step, normal);
    const off = Math.hypot(step[0] - along * normal[0], step[1] - along * normal[1], step[2] - along * normal[2]);
    if (off > Math.max(0.01, 0.01 * Math.abs(along))) {
      const deg = (Math.atan2(off, Math.abs(along)) * 180) / Math.PI;
      throw new UnsupportedError(
        `series ${seriesLabel}: slice positions step ${deg.toFixed(1)} degrees off the slice normal (gantry tilt or sheared stack); tilted series are refused, not resampled`,
        { seriesUid: seriesLabel },
      );
    }
  }
  const d0 = sorted[0]!.d;
  const gaps = sorted.slice(1).map((x, i) => x.d - sorted[i]!.d);
  let spacingK = fallbackSliceSpacing;
  let nk = sorted.length;
  let uniform = true;
  if (gaps.length > 0) {
    // A gap many times the usual step is a missing block of slices (or two scans stacked), not
    // spacing to interpolate across: refused with the gap named.
    const median = [...gaps].sort((a, b) => a - b)[Math.floor((gaps.length - 1) / 2)]!;
    const huge = gaps.findIndex((g) => g > MAX_GAP_RATIO * median);
    if (huge >= 0) {
      throw new UnsupportedError(
        `series ${seriesLabel}: a gap of ${gaps[huge]!.toFixed(2)} mm after slice ${huge} (at ${(sorted[huge]!.d - d0).toFixed(2)} mm) is more than ${MAX_GAP_RATIO}x the median slice step of ${median.toFixed(2)} mm; slices are missing or several scans are mixed: refused`,
        { seriesUid: seriesLabel },
      );
    }
    spacingK = modalSpacing(gaps);
    const tol = Math.max(0.01, 0.01 * spacingK);
    const odd = gaps.map((g, i) => ({ g, i })).filter(({ g }) => Math.abs(g - spacingK) > tol);
    if (odd.length > 0) {
      uniform = false;
      const extent = sorted[sorted.length - 1]!.d - d0;
      nk = Math.round(extent / spacingK) + 1;
      spacingK = extent / (nk - 1);
      const list = odd
        .slice(0, 5)
        .map(({ g, i }) => `${g.toFixed(2)} mm after slice ${i} (at ${(sorted[i]!.d - d0).toFixed(2)} mm)`)
        .join(', ');
      warnings.push(
        `series ${seriesLabel}: non-uniform slice spacing, ${odd.length} gap(s) differ from ${modalSpacing(gaps).toFixed(3)} mm: ${list}${odd.length > 5 ? ', ...' : ''}; the volume is placed on a uniform ${spacingK.toFixed(3)} mm grid of ${nk} slices, interpolated linearly along the slice normal`,
      );
    }
  } else {
    warnings.push(`series ${seriesLabel} has a single slice; slice spacing set to ${fallbackSliceSpacing} mm`);
  }
  const ps = first.pixelSpacing!;
  const geometry: Geometry = {
    // PixelSpacing is [row spacing (between rows, along j), column spacing (along i)].
    dims: [first.columns, first.rows, nk],
    spacing: [ps[1]!, ps[0]!, spacingK],
    origin: [...first.position!] as Vec3,
    direction,
  };
  geometry.origin = [...sorted[0]!.s.position!] as Vec3;
  const slices = sorted.map(({ s, d }) => ({ slice: s, distance: d - d0, k: Math.round((d - d0) / spacingK) }));
  return { geometry, slices, uniform, dropped, warnings };
}
