/**
 * Canonical [S, A, L] orientation (DESIGN.md MedLAM step 1): a C-order array whose axis 0 grows
 * toward superior, axis 1 toward anterior and axis 2 toward patient left. The reference gets there
 * with nibabel (io_orientation, as_reoriented to 'LAS', transpose (2,1,0); parity README Q1); here it
 * is derived from the Volume's LPS direction matrix, so any axis order or flip of the source works.
 * Oblique volumes are assigned each axis's dominant patient direction, as nibabel's io_orientation
 * does for a rotation below 45 degrees.
 */
import { UnsupportedError } from '../errors.js';
import type { Vec3 } from './geometry.js';
import { column, voxelToPatient } from './geometry.js';
import type { Volume } from './volume.js';

export type Shape3 = [number, number, number];

/** For each canonical axis (0 S, 1 A, 2 L): the source volume axis (0 i, 1 j, 2 k) and whether it runs backwards. */
export interface CanonicalMap {
  source: [0 | 1 | 2, 0 | 1 | 2, 0 | 1 | 2];
  flip: [boolean, boolean, boolean];
  /** Canonical C-order shape [nS, nA, nL]. */
  shape: Shape3;
  /** Spacing along the canonical axes, mm. */
  spacing: Vec3;
}

/**
 * LPS component and sign of each canonical axis: S = +z, A = -y, L = +x.
 */
const CANON: { lps: 0 | 1 | 2; sign: 1 | -1 }[] = [
  { lps: 2, sign: 1 },
  { lps: 1, sign: -1 },
  { lps: 0, sign: 1 },
];

export function canonicalMap(v: Pick<Volume, 'dims' | 'spacing' | 'direction'>, label = 'volume'): CanonicalMap {
  const source: (0 | 1 | 2)[] = [0, 0, 0];
  const flip = [false, false, false];
  const used = new Set<number>();
  for (const axis of [0, 1, 2] as const) {
    const col = column(v.direction, axis);
    let best = 0;
    for (const c of [1, 2]) if (Math.abs(col[c]!) > Math.abs(col[best]!)) best = c;
    const canon = CANON.findIndex((c) => c.lps === best);
    if (used.has(canon)) throw new UnsupportedError(`${label}: two volume axes point along the same patient axis`);
    used.add(canon);
    source[canon] = axis;
    flip[canon] = Math.sign(col[best]!) !== CANON[canon]!.sign;
  }
  const s = source as [0 | 1 | 2, 0 | 1 | 2, 0 | 1 | 2];
  return {
    source: s,
    flip: flip as [boolean, boolean, boolean],
    shape: [v.dims[s[0]], v.dims[s[1]], v.dims[s[2]]],
    spacing: [v.spacing[s[0]], v.spacing[s[1]], v.spacing[s[2]]],
  };
}

/** Source voxel index (i, j, k) of a canonical (continuous) index [s, a, l]. */
export function canonicalToSource(m: CanonicalMap, c: Vec3): Vec3 {
  const ijk: Vec3 = [0, 0, 0];
  for (let ax = 0; ax < 3; ax++) {
    const n = m.shape[ax]!;
    ijk[m.source[ax]!] = m.flip[ax] ? n - 1 - c[ax]! : c[ax]!;
  }
  return ijk;
}

/** Canonical index [s, a, l] of a source voxel index (i, j, k). */
export function sourceToCanonical(m: CanonicalMap, ijk: Vec3): Vec3 {
  const c: Vec3 = [0, 0, 0];
  for (let ax = 0; ax < 3; ax++) {
    const n = m.shape[ax]!;
    const v = ijk[m.source[ax]!];
    c[ax] = m.flip[ax] ? n - 1 - v : v;
  }
  return c;
}

/** LPS mm of a canonical (continuous) index. */
export function canonicalToPatient(v: Pick<Volume, 'dims' | 'spacing' | 'direction' | 'origin'>, m: CanonicalMap, c: Vec3): Vec3 {
  return voxelToPatient(v, canonicalToSource(m, c));
}

/** Copies a volume's voxels into canonical C order ([S][A][L], last axis fastest), as float64. */
export function toCanonical<T extends ArrayLike<number>>(v: Volume<Float32Array | Int16Array | Uint8Array | Uint16Array> | { dims: Vec3; data: T }, m: CanonicalMap): Float64Array {
  const [n0, n1, n2] = m.shape;
  const [di, dj] = [v.dims[0], v.dims[1]];
  const strideSrc = [1, di, di * dj];
  const out = new Float64Array(n0 * n1 * n2);
  // Stride in the source for one step along each canonical axis, and the start offset.
  const st: number[] = [];
  let start = 0;
  for (let ax = 0; ax < 3; ax++) {
    const s = strideSrc[m.source[ax]!]!;
    if (m.flip[ax]) {
      start += (m.shape[ax]! - 1) * s;
      st.push(-s);
    } else st.push(s);
  }
  const data = v.data;
  let o = 0;
  for (let a = 0; a < n0; a++) {
    const pa = start + a * st[0]!;
    for (let b = 0; b < n1; b++) {
      const pb = pa + b * st[1]!;
      for (let c = 0; c < n2; c++) out[o++] = data[pb + c * st[2]!]!;
    }
  }
  return out;
}
