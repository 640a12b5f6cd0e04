/**
 * Affine transforms as 3x4 row-major matrices acting on LPS mm. A registration result maps a
 * position in the query (fixed) image to the template (moving) image, the usual convention
 * (ITK, elastix: the transform pulls moving intensities onto the fixed grid); template points are
 * carried to the query through its inverse.
 */
import type { Vec3 } from '../volume/geometry.js';

export type Mat34 = number[];

export const IDENTITY34: Mat34 = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0];

/** Rotation matrix (row-major 3x3) Rz(c) Ry(b) Rx(a), angles in radians. */
export function eulerToMatrix(a: number, b: number, c: number): number[] {
  const ca = Math.cos(a);
  const sa = Math.sin(a);
  const cb = Math.cos(b);
  const sb = Math.sin(b);
  const cc = Math.cos(c);
  const sc = Math.sin(c);
  return [
    cc * cb, cc * sb * sa - sc * ca, cc * sb * ca + sc * sa,
    sc * cb, sc * sb * sa + cc * ca, sc * sb * ca - cc * sa,
    -sb, cb * sa, cb * ca,
  ];
}

/** y = A (x - c) + c + t as a 3x4 matrix. */
export function centredAffine(a: ArrayLike<number>, centre: Vec3, t: Vec3): Mat34 {
  const m: Mat34 = [];
  for (let r = 0; r < 3; r++) {
    const a0 = a[r * 3]!;
    const a1 = a[r * 3 + 1]!;
    const a2 = a[r * 3 + 2]!;
    m.push(a0, a1, a2, centre[r]! + t[r]! - (a0 * centre[0] + a1 * centre[1] + a2 * centre[2]));
  }
  return m;
}

export function applyMat34(m: ArrayLike<number>, p: Vec3): Vec3 {
  return [
    m[0]! * p[0] + m[1]! * p[1] + m[2]! * p[2] + m[3]!,
    m[4]! * p[0] + m[5]! * p[1] + m[6]! * p[2] + m[7]!,
    m[8]! * p[0] + m[9]! * p[1] + m[10]! * p[2] + m[11]!,
  ];
}

/** a ∘ b: first b, then a. */
export function composeMat34(a: ArrayLike<number>, b: ArrayLike<number>): Mat34 {
  const out: Mat34 = [];
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 4; c++) {
      let v = a[r * 4]! * b[c]! + a[r * 4 + 1]! * b[4 + c]! + a[r * 4 + 2]! * b[8 + c]!;
      if (c === 3) v += a[r * 4 + 3]!;
      out.push(v);
    }
  }
  return out;
}

export function invertMat34(m: ArrayLike<number>): Mat34 {
  const [a, b, c, , d, e, f, , g, h, i] = [m[0]!, m[1]!, m[2]!, m[3]!, m[4]!, m[5]!, m[6]!, m[7]!, m[8]!, m[9]!, m[10]!];
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  if (Math.abs(det) < 1e-12) throw new RangeError('singular affine transform');
  const inv = [
    (e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det,
    (f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det,
    (d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det,
  ];
  const t: Vec3 = [m[3]!, m[7]!, m[11]!];
  const out: Mat34 = [];
  for (let r = 0; r < 3; r++) {
    const r0 = inv[r * 3]!;
    const r1 = inv[r * 3 + 1]!;
    const r2 = inv[r * 3 + 2]!;
    out.push(r0, r1, r2, -(r0 * t[0] + r1 * t[1] + r2 * t[2]));
  }
  return out;
}

export function determinant3(m: ArrayLike<number>): number {
  return (
    m[0]! * (m[5]! * m[10]! - m[6]! * m[9]!) - m[1]! * (m[4]! * m[10]! - m[6]! * m[8]!) + m[2]! * (m[4]! * m[9]! - m[5]! * m[8]!)
  );
}
