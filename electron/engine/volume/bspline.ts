/**
 * Cubic B-spline interpolation as scipy.ndimage does it (scipy/ndimage/src/ni_splines.c and
 * ni_interpolation.c): the samples are first turned into spline coefficients by the recursive
 * prefilter (Unser, "Splines: a perfect fit for signal and image processing", IEEE SPM 1999), then
 * each output value is the weighted sum of 4 coefficients per axis. Boundaries use scipy's 'mirror'
 * extension (d c b | a b c d | c b a), which is what mode='constant' uses inside the domain
 * (parity README Q2: identical to 'mirror' except for the Q2b last-plane rule).
 */

/** The single pole of the cubic B-spline prefilter. */
export const CUBIC_POLE = Math.sqrt(3) - 2;

/**
 * In-place cubic prefilter of one line of n samples starting at `offset` with `stride`, mirror
 * boundary (scipy _init_causal_mirror / _init_anticausal_mirror, gain (1-z)(1-1/z)).
 */
export function prefilterLine(c: Float64Array, offset: number, stride: number, n: number, line: Float64Array): void {
  if (n < 2) return;
  const z = CUBIC_POLE;
  const gain = (1 - z) * (1 - 1 / z);
  for (let i = 0; i < n; i++) line[i] = c[offset + i * stride]! * gain;
  // causal initialisation (mirror)
  const zn1 = Math.pow(z, n - 1);
  let c0 = line[0]! + zn1 * line[n - 1]!;
  let zi = z;
  for (let i = 1; i < n - 1; i++) {
    c0 += zi * (line[i]! + zn1 * line[n - 1 - i]!);
    zi *= z;
  }
  line[0] = c0 / (1 - zn1 * zn1);
  for (let i = 1; i < n; i++) line[i] = line[i]! + z * line[i - 1]!;
  // anticausal initialisation (mirror)
  line[n - 1] = ((z * line[n - 2]! + line[n - 1]!) * z) / (z * z - 1);
  for (let i = n - 2; i >= 0; i--) line[i] = z * (line[i + 1]! - line[i]!);
  for (let i = 0; i < n; i++) c[offset + i * stride] = line[i]!;
}

/** Prefilters a C-order array in place along every axis (scipy.ndimage.spline_filter, order 3). */
export function prefilter(data: Float64Array, shape: readonly number[]): void {
  const nd = shape.length;
  const strides: number[] = new Array<number>(nd).fill(1);
  for (let a = nd - 2; a >= 0; a--) strides[a] = strides[a + 1]! * shape[a + 1]!;
  const total = data.length;
  for (let axis = 0; axis < nd; axis++) {
    const n = shape[axis]!;
    if (n < 2) continue;
    const stride = strides[axis]!;
    const line = new Float64Array(n);
    const outer = stride * n;
    for (let base = 0; base < total; base += outer) {
      for (let inner = 0; inner < stride; inner++) prefilterLine(data, base + inner, stride, n, line);
    }
  }
}

/** scipy 'mirror' index extension for a line of n samples. */
export function mirrorIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * n - 2;
  let k = i % period;
  if (k < 0) k += period;
  return k >= n ? period - k : k;
}

/**
 * The 4 cubic B-spline weights for position x (coefficients floor(x)-1 .. floor(x)+2), as scipy's
 * spline_interpolation_weights.
 */
export function cubicWeights(x: number, out: Float64Array | number[] = new Float64Array(4)): Float64Array | number[] {
  const t = x - Math.floor(x);
  const z = 1 - t;
  out[0] = (z * z * z) / 6;
  out[1] = (t * t * (t - 2) * 3 + 4) / 6;
  out[2] = (z * z * (z - 2) * 3 + 4) / 6;
  out[3] = (t * t * t) / 6;
  return out;
}
