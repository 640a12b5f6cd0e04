/**
 * Shape rules of the static shape pass (shape-pass.ts) for the ops that move or re-index elements
 * without arithmetic (shape queries, gather, reshapes, concatenation, slicing, transposes, padding,
 * splits), following the ONNX operator specification at opsets 13-17. Small integer tensors keep
 * their values, since exported graphs compute their shapes with these ops.
 */
import { ONNX_INT64, type OnnxNodeInfo } from './onnx-graph.js';
import { VALUE_LIMIT, attrInt, attrInts, broadcastAt, broadcastShapes, gatherValues, norm, prod, type TensorFacts } from './shape-facts.js';

/** Facts of the outputs of a layout op `n` with first input `xs`; undefined for an op it does not know or facts it cannot derive. */
export function inferLayout(n: OnnxNodeInfo, xs: TensorFacts, ins: (TensorFacts | undefined)[]): TensorFacts[] | undefined {
  const r = xs.shape.length;
  switch (n.op) {
    case 'Shape': {
      const s = norm(attrInt(n, 'start', 0), r);
      const e = n.attrs.end === undefined ? r : norm(attrInt(n, 'end', r), r);
      const v = xs.shape.slice(Math.max(0, s), Math.min(r, e));
      return [{ shape: [v.length], dataType: ONNX_INT64, values: v }];
    }
    case 'Size':
      return [{ shape: [], dataType: ONNX_INT64, values: [prod(xs.shape)] }];
    case 'Gather': {
      const idx = ins[1]!;
      const axis = norm(attrInt(n, 'axis', 0), r);
      const shape = [...xs.shape.slice(0, axis), ...idx.shape, ...xs.shape.slice(axis + 1)];
      const f: TensorFacts = { shape, dataType: xs.dataType };
      if (xs.values && idx.values && r === 1) f.values = idx.values.map((i) => xs.values![i < 0 ? i + xs.shape[0]! : i]!);
      return [f];
    }
    case 'Unsqueeze': {
      const axes = ins[1]?.values ?? attrInts(n, 'axes');
      if (!axes) return undefined;
      const outR = r + axes.length;
      const ax = new Set(axes.map((a) => norm(a, outR)));
      const shape: number[] = [];
      let j = 0;
      for (let i = 0; i < outR; i++) shape.push(ax.has(i) ? 1 : xs.shape[j++]!);
      return [{ ...xs, shape }];
    }
    case 'Squeeze': {
      const axes = ins[1]?.values ?? attrInts(n, 'axes');
      const ax = axes ? new Set(axes.map((a) => norm(a, r))) : undefined;
      return [{ ...xs, shape: xs.shape.filter((d, i) => (ax ? !ax.has(i) : d !== 1)) }];
    }
    case 'Concat': {
      const axis = norm(attrInt(n, 'axis', 0), r);
      const shape = [...xs.shape];
      shape[axis] = ins.reduce((a, i) => a + i!.shape[axis]!, 0);
      const f: TensorFacts = { shape, dataType: xs.dataType };
      if (r === 1 && ins.every((i) => i!.values)) f.values = ins.flatMap((i) => i!.values!);
      return [f];
    }
    case 'Slice': {
      const [starts, ends] = [ins[1]?.values, ins[2]?.values];
      if (!starts || !ends) return undefined;
      const axes = ins[3]?.values ?? starts.map((_, i) => i);
      const steps = ins[4]?.values ?? starts.map(() => 1);
      const shape = [...xs.shape];
      const ranges = xs.shape.map((d) => [0, d, 1] as [number, number, number]);
      axes.forEach((a0, i) => {
        const a = norm(a0, r);
        const d = xs.shape[a]!;
        const st = steps[i]!;
        const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v < 0 ? v + d : v));
        const s = st > 0 ? clamp(starts[i]!, 0, d) : clamp(starts[i]!, -1, d - 1);
        const e = st > 0 ? clamp(ends[i]!, 0, d) : clamp(ends[i]!, -1, d - 1);
        shape[a] = Math.max(0, Math.ceil((e - s) / st));
        ranges[a] = [s, e, st];
      });
      const f: TensorFacts = { shape, dataType: xs.dataType };
      if (xs.values) f.values = gatherValues(xs, shape, (c) => c.map((q, i) => ranges[i]![0] + q * ranges[i]![2]));
      return [f];
    }
    case 'Reshape': {
      const target = ins[1]!.values;
      if (!target) return undefined;
      const shape = target.map((d, i) => (d === 0 && attrInt(n, 'allowzero', 0) === 0 ? xs.shape[i]! : d));
      const minus = shape.indexOf(-1);
      if (minus >= 0) shape[minus] = prod(xs.shape) / prod(shape.filter((_, i) => i !== minus));
      return [{ ...xs, shape }];
    }
    case 'Flatten': {
      const axis = norm(attrInt(n, 'axis', 1), r);
      return [{ ...xs, shape: [prod(xs.shape.slice(0, axis)), prod(xs.shape.slice(axis))] }];
    }
    case 'Transpose': {
      const perm = attrInts(n, 'perm') ?? xs.shape.map((_, i) => r - 1 - i);
      const shape = perm.map((p) => xs.shape[p]!);
      const f: TensorFacts = { shape, dataType: xs.dataType };
      if (xs.values) f.values = gatherValues(xs, shape, (c) => { const src = new Array<number>(r); perm.forEach((p, i) => (src[p] = c[i]!)); return src; });
      return [f];
    }
    case 'Expand': {
      const target = ins[1]!.values;
      if (!target) return undefined;
      const shape = broadcastShapes([xs.shape, target]);
      const f: TensorFacts = { shape, dataType: xs.dataType };
      if (xs.values && prod(shape) <= VALUE_LIMIT) f.values = Array.from({ length: prod(shape) }, (_, k) => xs.values![broadcastAt(xs.shape, shape, k)]!);
      return [f];
    }
    case 'Tile': {
      const reps = ins[1]!.values;
      if (!reps) return undefined;
      return [{ shape: xs.shape.map((d, i) => d * reps[i]!), dataType: xs.dataType }];
    }
    case 'Pad': {
      const pads = ins[1]?.values ?? attrInts(n, 'pads');
      if (!pads) return undefined;
      return [{ shape: xs.shape.map((d, i) => d + pads[i]! + pads[i + r]!), dataType: xs.dataType }];
    }
    case 'Split': {
      const axis = norm(attrInt(n, 'axis', 0), r);
      const d = xs.shape[axis]!;
      const parts = ins[1]?.values ?? attrInts(n, 'split') ?? new Array<number>(n.outputs.length).fill(Math.ceil(d / n.outputs.length));
      let offset = 0;
      return parts.map((p) => {
        const shape = xs.shape.map((q, i) => (i === axis ? p : q));
        const at = offset;
        offset += p;
        const f: TensorFacts = { shape, dataType: xs.dataType };
        if (xs.values) f.values = gatherValues(xs, shape, (c) => c.map((q, i) => (i === axis ? q + at : q)));
        return f;
      });
    }
    default:
      return undefined;
  }
}
