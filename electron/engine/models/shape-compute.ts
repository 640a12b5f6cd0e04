/**
 * Shape rules of the static shape pass (shape-pass.ts) for the ops that compute (reductions,
 * pooling, convolutions, matrix products, Einsum, resizing, TopK), following the ONNX operator
 * specification at opsets 13-17. Only shapes: these outputs are too large to carry values.
 */
import { ONNX_INT64, type OnnxNodeInfo } from './onnx-graph.js';
import { attrInt, attrInts, broadcastShapes, norm, type TensorFacts } from './shape-facts.js';

/** Output spatial size of a pooling or convolution window (ONNX Conv/MaxPool shape inference). */
function windowOut(n: OnnxNodeInfo, spatial: number[], kernel: number[]): number[] {
  const r = spatial.length;
  const strides = attrInts(n, 'strides') ?? new Array<number>(r).fill(1);
  const dil = attrInts(n, 'dilations') ?? new Array<number>(r).fill(1);
  const pads = attrInts(n, 'pads') ?? new Array<number>(2 * r).fill(0);
  const autoPad = n.attrs.auto_pad;
  const ceil = attrInt(n, 'ceil_mode', 0) === 1;
  return spatial.map((x, i) => {
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(x / strides[i]!);
    const ek = (kernel[i]! - 1) * dil[i]! + 1;
    const v = (x + pads[i]! + pads[i + r]! - ek) / strides[i]!; // VALID: no pads attribute, so zeros
    return (ceil ? Math.ceil(v) : Math.floor(v)) + 1;
  });
}

export function einsumShape(eq: string, inputs: number[][]): { out: number[]; sizes: Map<string, number> } {
  const [lhs, rhs] = eq.replace(/\s/g, '').split('->');
  const terms = lhs!.split(',');
  if (terms.some((t) => t.includes('.'))) throw new Error(`Einsum ellipsis is not supported: ${eq}`);
  const sizes = new Map<string, number>();
  terms.forEach((t, i) => [...t].forEach((c, j) => sizes.set(c, Math.max(sizes.get(c) ?? 1, inputs[i]![j]!))));
  const outTerm = rhs ?? [...sizes.keys()].filter((c) => terms.join('').split(c).length === 2).sort().join('');
  return { out: [...outTerm].map((c) => sizes.get(c)!), sizes };
}

/** Facts of the outputs of a compute op `n` with first input `xs`; undefined for an op it does not know or facts it cannot derive. */
export function inferCompute(n: OnnxNodeInfo, xs: TensorFacts, ins: (TensorFacts | undefined)[]): TensorFacts[] | undefined {
  const op = n.op;
  const r = xs.shape.length;
  switch (op) {
    case 'ReduceMean': case 'ReduceSum': case 'ReduceMax': case 'ReduceMin': case 'ReduceProd': case 'ReduceL2': case 'ReduceSumSquare': case 'ArgMax': case 'ArgMin': {
      const keep = attrInt(n, 'keepdims', 1) === 1;
      const axesIn = op.startsWith('Arg') ? [attrInt(n, 'axis', 0)] : (ins[1]?.values ?? attrInts(n, 'axes'));
      if (!axesIn && op === 'ReduceSum' && ins[1] !== undefined) return undefined;
      const ax = new Set((axesIn ?? (attrInt(n, 'noop_with_empty_axes', 0) ? [] : xs.shape.map((_, i) => i))).map((a) => norm(a, r)));
      const shape = keep ? xs.shape.map((d, i) => (ax.has(i) ? 1 : d)) : xs.shape.filter((_, i) => !ax.has(i));
      return [{ shape, dataType: op.startsWith('Arg') ? ONNX_INT64 : xs.dataType }];
    }
    case 'MaxPool': case 'AveragePool': case 'LpPool': {
      const k = attrInts(n, 'kernel_shape')!;
      const shape = [...xs.shape.slice(0, 2), ...windowOut(n, xs.shape.slice(2), k)];
      return [{ shape, dataType: xs.dataType }, { shape, dataType: ONNX_INT64 }];
    }
    case 'GlobalAveragePool': case 'GlobalMaxPool':
      return [{ shape: [...xs.shape.slice(0, 2), ...xs.shape.slice(2).map(() => 1)], dataType: xs.dataType }];
    case 'Conv': {
      const w = ins[1]!.shape;
      const k = attrInts(n, 'kernel_shape') ?? w.slice(2);
      return [{ shape: [xs.shape[0]!, w[0]!, ...windowOut(n, xs.shape.slice(2), k)], dataType: xs.dataType }];
    }
    case 'ConvTranspose': {
      const w = ins[1]!.shape;
      const group = attrInt(n, 'group', 1);
      const k = attrInts(n, 'kernel_shape') ?? w.slice(2);
      const sp = xs.shape.slice(2);
      const explicit = attrInts(n, 'output_shape');
      const strides = attrInts(n, 'strides') ?? sp.map(() => 1);
      const dil = attrInts(n, 'dilations') ?? sp.map(() => 1);
      const pads = attrInts(n, 'pads') ?? new Array<number>(2 * sp.length).fill(0);
      const op2 = attrInts(n, 'output_padding') ?? sp.map(() => 0);
      const out = explicit ?? sp.map((d, i) => strides[i]! * (d - 1) + op2[i]! + (k[i]! - 1) * dil[i]! + 1 - pads[i]! - pads[i + sp.length]!);
      return [{ shape: [xs.shape[0]!, w[1]! * group, ...out], dataType: xs.dataType }];
    }
    case 'MatMul': {
      const a = xs.shape.length === 1 ? [1, xs.shape[0]!] : xs.shape;
      const b0 = ins[1]!.shape;
      const b = b0.length === 1 ? [b0[0]!, 1] : b0;
      const batch = broadcastShapes([a.slice(0, -2), b.slice(0, -2)]);
      const shape = [...batch, ...(xs.shape.length === 1 ? [] : [a[a.length - 2]!]), ...(b0.length === 1 ? [] : [b[b.length - 1]!])];
      return [{ shape, dataType: xs.dataType }];
    }
    case 'Gemm': {
      const a = xs.shape;
      const b = ins[1]!.shape;
      const m = attrInt(n, 'transA', 0) ? a[1]! : a[0]!;
      const nn = attrInt(n, 'transB', 0) ? b[0]! : b[1]!;
      return [{ shape: [m, nn], dataType: xs.dataType }];
    }
    case 'Einsum':
      return [{ shape: einsumShape(String(n.attrs.equation), ins.map((i) => i!.shape)).out, dataType: xs.dataType }];
    case 'Resize': case 'Upsample': {
      const sizes = op === 'Resize' ? ins[3]?.values : undefined;
      if (sizes) return [{ shape: sizes, dataType: xs.dataType }];
      const scales = op === 'Resize' ? ins[2]?.values : (ins[1]?.values ?? (n.attrs.scales as number[] | undefined));
      if (!scales || scales.length === 0) return undefined;
      return [{ shape: xs.shape.map((d, i) => Math.floor(d * scales[i]!)), dataType: xs.dataType }];
    }
    case 'TopK': {
      const k = ins[1]!.values?.[0];
      if (k === undefined) return undefined;
      const axis = norm(attrInt(n, 'axis', -1), r);
      const shape = xs.shape.map((q, i) => (i === axis ? k : q));
      return [{ shape, dataType: xs.dataType }, { shape, dataType: ONNX_INT64 }];
    }
    default:
      return undefined; // unknown or data-dependent (NonZero, If, Loop): left unknown
  }
}
