/**
 * 2-D image resize with exactly the semantics of scikit-image 0.19's
 * `transform.resize(img, shape, order, mode='constant', cval=0, anti_aliasing=True, preserve_range=True)`,
 * which MedSAM uses to bring a CT slice to 1024x1024 (parity README, quirk M4):
 *
 * 1. anti-aliasing: `scipy.ndimage.gaussian_filter(img, sigma, mode='grid-constant', cval=0)` with
 *    sigma = max(0, (in/out - 1) / 2) per axis (truncate 4.0): a no-op when upsampling;
 * 2. `scipy.ndimage.zoom(img, out/in, order, mode='grid-constant', cval=0, grid_mode=True)`: output
 *    sample o reads input position (o + 0.5) * in/out - 0.5; for order > 1 scipy first pads 12 zeros on
 *    every side (`_prepad_for_spline_filter`) and computes the B-spline coefficients of the padded
 *    array with mirror boundary initialisation (scipy ni_splines.c), so the border darkens toward 0;
 * 3. `_clip_warp_output`: clip to the input's [min, max], except that exact cval samples survive when
 *    cval lies outside that range (mode 'constant').
 *
 * Everything is float64, like scipy. Orders 0..3 are supported (MedSAM uses 2; older revisions 3).
 */
import { InputError } from '../errors.js';

const PREPAD = 12;

/** Poles of the B-spline prefilter (scipy ni_splines.c get_filter_poles). */
function poles(order: number): number[] {
  if (order === 2) return [Math.sqrt(8) - 3];
  if (order === 3) return [Math.sqrt(3) - 2];
  return [];
}

/**
 * In-place B-spline prefilter of one line with mirror boundary init (scipy's
 * _init_causal_mirror / _init_anticausal_mirror), used by scipy for 'constant' and 'grid-constant'.
 */
function splineFilterLine(c: Float64Array, order: number): void {
  const n = c.length;
  if (n === 1) return;
  const zs = poles(order);
  let gain = 1;
  for (const z of zs) gain *= (1 - z) * (1 - 1 / z);
  for (let i = 0; i < n; i++) c[i] = c[i]! * gain;
  for (const z of zs) {
    // causal init (mirror)
    let zi = z;
    const zn1 = Math.pow(z, n - 1);
    let c0 = c[0]! + zn1 * c[n - 1]!;
    for (let i = 1; i < n - 1; i++) {
      c0 += zi * (c[i]! + zn1 * c[n - 1 - i]!);
      zi *= z;
    }
    c[0] = c0 / (1 - zn1 * zn1);
    for (let i = 1; i < n; i++) c[i] = c[i]! + z * c[i - 1]!;
    // anticausal init (mirror)
    c[n - 1] = ((z * c[n - 2]! + c[n - 1]!) * z) / (z * z - 1);
    for (let i = n - 2; i >= 0; i--) c[i] = z * (c[i + 1]! - c[i]!);
  }
}

/** B-spline interpolation weights for the (order + 1) coefficients from `start` (scipy ni_interpolation.c). */
export function splineWeights(x: number, order: number): { start: number; w: number[] } {
  if (order === 0) return { start: Math.floor(x + 0.5), w: [1] };
  if (order === 1) {
    const s = Math.floor(x);
    const t = x - s;
    return { start: s, w: [1 - t, t] };
  }
  if (order === 2) {
    const s = Math.floor(x + 0.5) - 1;
    const t = x - Math.floor(x + 0.5); // in [-0.5, 0.5)
    const w1 = 0.75 - t * t;
    const y = 0.5 - t;
    const w0 = 0.5 * y * y;
    return { start: s, w: [w0, w1, 1 - w0 - w1] };
  }
  if (order === 3) {
    const s = Math.floor(x) - 1;
    const t = x - Math.floor(x); // in [0, 1)
    const z = 1 - t;
    const w0 = (z * z * z) / 6;
    const w1 = (t * t * (t - 2) * 3 + 4) / 6;
    const w2 = (z * z * (z - 2) * 3 + 4) / 6;
    return { start: s, w: [w0, w1, w2, 1 - w0 - w1 - w2] };
  }
  throw new InputError(`spline order ${order} is not supported (0..3)`);
}

/** Gaussian kernel as scipy.ndimage builds it (_gaussian_kernel1d, radius = int(truncate*sigma + 0.5)). */
function gaussianKernel(sigma: number): Float64Array {
  const radius = Math.floor(4 * sigma + 0.5);
  const k = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let x = -radius; x <= radius; x++) {
    const v = Math.exp((-0.5 / (sigma * sigma)) * x * x);
    k[x + radius] = v;
    sum += v;
  }
  for (let i = 0; i < k.length; i++) k[i] = k[i]! / sum;
  return k;
}

/** Separable correlation with zeros outside (scipy 'constant'/'grid-constant', cval 0). */
function gaussianFilter2d(src: Float64Array, rows: number, cols: number, sy: number, sx: number): Float64Array {
  let cur = src;
  if (sx > 1e-15) {
    const k = gaussianKernel(sx);
    const r = (k.length - 1) / 2;
    const out = new Float64Array(rows * cols);
    for (let y = 0; y < rows; y++)
      for (let x = 0; x < cols; x++) {
        let acc = 0;
        for (let t = -r; t <= r; t++) {
          const xx = x + t;
          if (xx >= 0 && xx < cols) acc += k[t + r]! * cur[y * cols + xx]!;
        }
        out[y * cols + x] = acc;
      }
    cur = out;
  }
  if (sy > 1e-15) {
    const k = gaussianKernel(sy);
    const r = (k.length - 1) / 2;
    const out = new Float64Array(rows * cols);
    for (let y = 0; y < rows; y++)
      for (let x = 0; x < cols; x++) {
        let acc = 0;
        for (let t = -r; t <= r; t++) {
          const yy = y + t;
          if (yy >= 0 && yy < rows) acc += k[t + r]! * cur[yy * cols + x]!;
        }
        out[y * cols + x] = acc;
      }
    cur = out;
  }
  return cur;
}

/** Per output sample along one axis: the coefficient start index and weights. */
function axisPlan(nIn: number, nOut: number, order: number, pad: number): { start: Int32Array; w: Float64Array } {
  const zoom = nIn / nOut;
  const start = new Int32Array(nOut);
  const w = new Float64Array(nOut * (order + 1));
  for (let o = 0; o < nOut; o++) {
    const x = (o + 0.5) * zoom - 0.5; // grid_mode=True: pixel-area alignment
    const p = splineWeights(x, order);
    start[o] = p.start + pad;
    for (let a = 0; a <= order; a++) w[o * (order + 1) + a] = p.w[a]!;
  }
  return { start, w };
}

/**
 * skimage.transform.resize(img, [outRows, outCols], order, mode='constant', anti_aliasing=True,
 * preserve_range=True) of a row-major 2-D image; returns float64 (caller truncates as the reference).
 */
export function resizeLikeSkimage(
  img: ArrayLike<number>,
  rows: number,
  cols: number,
  outRows: number,
  outCols: number,
  order = 2,
): Float64Array {
  if (img.length !== rows * cols) throw new InputError(`resize: image has ${img.length} values, expected ${rows}x${cols}`);
  let min = Infinity;
  let max = -Infinity;
  const src = new Float64Array(rows * cols);
  for (let i = 0; i < src.length; i++) {
    const v = img[i]!;
    src[i] = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const fy = rows / outRows;
  const fx = cols / outCols;
  const filtered = gaussianFilter2d(src, rows, cols, Math.max(0, (fy - 1) / 2), Math.max(0, (fx - 1) / 2));

  // Spline coefficients on the zero-padded image (order > 1), else the samples themselves.
  const pad = order > 1 ? PREPAD : 0;
  const pr = rows + 2 * pad;
  const pc = cols + 2 * pad;
  const coef = new Float64Array(pr * pc);
  for (let y = 0; y < rows; y++) coef.set(filtered.subarray(y * cols, (y + 1) * cols), (y + pad) * pc + pad);
  if (order > 1) {
    const line = new Float64Array(Math.max(pr, pc));
    for (let y = 0; y < pr; y++) {
      const l = line.subarray(0, pc);
      l.set(coef.subarray(y * pc, (y + 1) * pc));
      splineFilterLine(l, order);
      coef.set(l, y * pc);
    }
    for (let x = 0; x < pc; x++) {
      const l = line.subarray(0, pr);
      for (let y = 0; y < pr; y++) l[y] = coef[y * pc + x]!;
      splineFilterLine(l, order);
      for (let y = 0; y < pr; y++) coef[y * pc + x] = l[y]!;
    }
  }
  const at = (y: number, x: number): number => (y < 0 || y >= pr || x < 0 || x >= pc ? 0 : coef[y * pc + x]!);

  const n = order + 1;
  const px = axisPlan(cols, outCols, order, pad);
  const py = axisPlan(rows, outRows, order, pad);
  // Interpolate along x for every coefficient row, then along y.
  const tmp = new Float64Array(pr * outCols);
  for (let y = 0; y < pr; y++)
    for (let o = 0; o < outCols; o++) {
      const s = px.start[o]!;
      let acc = 0;
      for (let a = 0; a < n; a++) acc += px.w[o * n + a]! * at(y, s + a);
      tmp[y * outCols + o] = acc;
    }
  const out = new Float64Array(outRows * outCols);
  for (let o = 0; o < outRows; o++) {
    const s = py.start[o]!;
    for (let x = 0; x < outCols; x++) {
      let acc = 0;
      for (let a = 0; a < n; a++) {
        const yy = s + a;
        if (yy >= 0 && yy < pr) acc += py.w[o * n + a]! * tmp[yy * outCols + x]!;
      }
      out[o * outCols + x] = acc;
    }
  }

  // skimage _clip_warp_output (order > 0): clip to the input range, keeping exact cval samples
  // when cval (0) lies outside that range.
  if (order > 0) {
    let omin = Infinity;
    let omax = -Infinity;
    for (let i = 0; i < out.length; i++) {
      const v = out[i]!;
      if (v < omin) omin = v;
      if (v > omax) omax = v;
    }
    const preserveCval = !(min <= 0 && 0 <= max) && omin <= 0 && 0 <= omax;
    for (let i = 0; i < out.length; i++) {
      const v = out[i]!;
      if (preserveCval && v === 0) continue;
      out[i] = v < min ? min : v > max ? max : v;
    }
  }
  return out;
}
