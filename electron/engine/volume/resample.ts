/**
 * Resampling kernels that must equal the reference's numerically:
 * - zoomCubic: scipy.ndimage.zoom(x, zoom, order=3) with its defaults (prefilter=True,
 *   mode='constant', cval=0, grid_mode=False) on float64 data (parity README Q2, Q2b);
 * - trilinearTorch: torch.nn.functional.interpolate(mode='trilinear', align_corners=False) (used
 *   for MedLAM's label resampling, Q5, and the similarity-map upsampling, Q14).
 * Arrays are C order (last axis fastest).
 */
import { cubicWeights, mirrorIndex, prefilter } from './bspline.js';

export type Shape3 = [number, number, number];

/** Python's round(): half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** scipy.ndimage.zoom's output shape: int(round(n * zoom)) per axis. */
export function zoomShape(shape: readonly number[], zoom: readonly number[]): Shape3 {
  return [0, 1, 2].map((a) => roundHalfEven(shape[a]! * zoom[a]!)) as Shape3;
}

interface AxisPlan {
  start: Int32Array; // 4 mirrored input indices per output sample
  weights: Float64Array;
  /** Output sample that falls outside [0, n_in - 1] (scipy's constant-mode cval rule, Q2b). */
  outside: Uint8Array;
}

function planAxis(nIn: number, nOut: number): AxisPlan {
  // grid_mode=False: output o samples input o * (n_in - 1) / (n_out - 1), computed as scipy does
  // (the ratio first, in float64, then the product).
  const ratio = nOut > 1 ? (nIn - 1) / (nOut - 1) : 1;
  const start = new Int32Array(nOut * 4);
  const weights = new Float64Array(nOut * 4);
  const outside = new Uint8Array(nOut);
  const w = new Float64Array(4);
  for (let o = 0; o < nOut; o++) {
    const x = o * ratio;
    if (x > nIn - 1 || x < 0) outside[o] = 1;
    cubicWeights(x, w);
    const f = Math.floor(x) - 1;
    for (let t = 0; t < 4; t++) {
      start[o * 4 + t] = mirrorIndex(f + t, nIn);
      weights[o * 4 + t] = w[t]!;
    }
  }
  return { start, weights, outside };
}

/** Resamples one axis of a C-order 3-D array of coefficients. */
function resampleAxis(src: Float64Array, shape: Shape3, axis: 0 | 1 | 2, plan: AxisPlan, nOut: number): { data: Float64Array; shape: Shape3 } {
  const outShape: Shape3 = [...shape];
  outShape[axis] = nOut;
  const out = new Float64Array(outShape[0] * outShape[1] * outShape[2]);
  const inStride = axis === 2 ? 1 : axis === 1 ? shape[2] : shape[1] * shape[2];
  const outStride = axis === 2 ? 1 : axis === 1 ? outShape[2] : outShape[1] * outShape[2];
  const nIn = shape[axis];
  // Iterate over all lines along `axis`.
  const outerCount = axis === 0 ? 1 : axis === 1 ? shape[0] : shape[0] * shape[1];
  const innerCount = inStride; // lines interleaved within one outer block
  for (let ob = 0; ob < outerCount; ob++) {
    const inBase = ob * nIn * inStride;
    const outBase = ob * nOut * outStride;
    for (let ib = 0; ib < innerCount; ib++) {
      const ip = inBase + ib;
      const op = outBase + ib;
      for (let o = 0; o < nOut; o++) {
        const q = o * 4;
        out[op + o * outStride] =
          plan.weights[q]! * src[ip + plan.start[q]! * inStride]! +
          plan.weights[q + 1]! * src[ip + plan.start[q + 1]! * inStride]! +
          plan.weights[q + 2]! * src[ip + plan.start[q + 2]! * inStride]! +
          plan.weights[q + 3]! * src[ip + plan.start[q + 3]! * inStride]!;
      }
    }
  }
  return { data: out, shape: outShape };
}

/**
 * scipy.ndimage.zoom(data, zoom, order=3) for a 3-D float64 array with output shape `outShape`
 * (zoomShape). The prefilter runs in place on a copy. Samples whose position falls outside the input
 * (only the last plane, by float64 rounding, Q2b) become `cval`.
 */
export function zoomCubic(data: Float64Array, shape: Shape3, outShape: Shape3, cval = 0): Float64Array {
  const coeff = Float64Array.from(data);
  prefilter(coeff, shape);
  let cur: { data: Float64Array; shape: Shape3 } = { data: coeff, shape };
  const plans = ([0, 1, 2] as const).map((a) => planAxis(shape[a], outShape[a]));
  for (const axis of [2, 1, 0] as const) cur = resampleAxis(cur.data, cur.shape, axis, plans[axis]!, outShape[axis]);
  const out = cur.data;
  const [n0, n1, n2] = outShape;
  for (const axis of [0, 1, 2] as const) {
    const plan = plans[axis]!;
    for (let o = 0; o < outShape[axis]; o++) {
      if (!plan.outside[o]) continue;
      for (let a = 0; a < n0; a++) {
        if (axis === 0 && a !== o) continue;
        for (let b = 0; b < n1; b++) {
          if (axis === 1 && b !== o) continue;
          const row = (a * n1 + b) * n2;
          if (axis === 2) out[row + o] = cval;
          else out.fill(cval, row, row + n2);
        }
      }
    }
  }
  return out;
}

/**
 * Source index and weight of torch's linear interpolation with align_corners=False along one axis:
 * src = (o + 0.5) * scale - 0.5, clamped at 0; i1 = i0 + 1 unless at the last sample. `scale` is
 * in/out for a size-given resize, or 1/scale_factor when a scale factor was given (torch uses the
 * user's factor, not the size ratio). Rounded to float32 (Math.fround) where torch's CPU kernel
 * (aten/src/ATen/native/cpu/UpSampleKernel.cpp, compute_indices_weights_linear) stores floats.
 */
export function linearPlan(nIn: number, nOut: number, scale: number, f32 = true): { i0: Int32Array; i1: Int32Array; l1: Float64Array } {
  const fr = f32 ? Math.fround : (x: number) => x;
  const s = fr(scale);
  const i0 = new Int32Array(nOut);
  const i1 = new Int32Array(nOut);
  const l1 = new Float64Array(nOut);
  for (let o = 0; o < nOut; o++) {
    // torch: the scale is a float, the source index is kept in double, the weights are stored as floats.
    let src = s * (o + 0.5) - 0.5;
    if (src < 0) src = 0;
    const f = Math.floor(src);
    i0[o] = f;
    i1[o] = f < nIn - 1 ? f + 1 : f;
    l1[o] = fr(Math.min(Math.max(src - f, 0), 1));
  }
  return { i0, i1, l1 };
}

/** torch trilinear resize (align_corners=False) of a C-order 3-D float array, float32 arithmetic. */
export function trilinearTorch(
  data: Float32Array,
  shape: Shape3,
  outShape: Shape3,
  scales: [number, number, number] = [shape[0] / outShape[0], shape[1] / outShape[1], shape[2] / outShape[2]],
  out: Float32Array = new Float32Array(outShape[0] * outShape[1] * outShape[2]),
): Float32Array {
  const fr = Math.fround;
  const [p0, p1, p2] = [0, 1, 2].map((a) => linearPlan(shape[a]!, outShape[a]!, scales[a]!));
  const [, n1, n2] = shape;
  let o = 0;
  for (let a = 0; a < outShape[0]; a++) {
    const a0 = p0!.i0[a]!, a1 = p0!.i1[a]!, la1 = p0!.l1[a]!, la0 = fr(1 - la1);
    for (let b = 0; b < outShape[1]; b++) {
      const b0 = p1!.i0[b]!, b1 = p1!.i1[b]!, lb1 = p1!.l1[b]!, lb0 = fr(1 - lb1);
      const r00 = (a0 * n1 + b0) * n2, r01 = (a0 * n1 + b1) * n2, r10 = (a1 * n1 + b0) * n2, r11 = (a1 * n1 + b1) * n2;
      for (let c = 0; c < outShape[2]; c++) {
        const c0 = p2!.i0[c]!, c1 = p2!.i1[c]!, lc1 = p2!.l1[c]!, lc0 = fr(1 - lc1);
        // torch's upsample_trilinear3d: t0l*(h0l*(w0l*x000 + w1l*x001) + h1l*(...)) + t1l*(...)
        const v =
          fr(la0 * fr(fr(lb0 * fr(fr(lc0 * data[r00 + c0]!) + fr(lc1 * data[r00 + c1]!))) + fr(lb1 * fr(fr(lc0 * data[r01 + c0]!) + fr(lc1 * data[r01 + c1]!))))) +
          fr(la1 * fr(fr(lb0 * fr(fr(lc0 * data[r10 + c0]!) + fr(lc1 * data[r10 + c1]!))) + fr(lb1 * fr(fr(lc0 * data[r11 + c0]!) + fr(lc1 * data[r11 + c1]!)))));
        out[o++] = fr(v);
      }
    }
  }
  return out;
}
