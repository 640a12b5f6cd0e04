/**
 * Static shape inference over an ONNX graph (onnx-graph.ts), for counting a model's arithmetic
 * without running it. PyTorch's exporter writes no value_info for intermediates, and the shapes of
 * its graphs are computed inside the graph (Shape -> Gather -> Concat -> Reshape), so small integer
 * tensors are evaluated too. Ops follow the ONNX operator specification (onnx/docs/Operators.md) at
 * opsets 13-17. A tensor whose shape cannot be derived (a data-dependent op such as NonZero, an op
 * this pass does not know) stays unknown, and whatever depends on it is reported as such rather than
 * guessed.
 */
import { ONNX_BOOL, ONNX_FLOAT, ONNX_INT64, type OnnxGraphInfo, type OnnxNodeInfo, type OnnxTensorInfo } from './onnx-graph.js';

export interface TensorFacts {
  shape: number[];
  dataType: number;
  /** Element values (row-major), only for small tensors whose inputs were all known. */
  values?: number[];
}

/** Tensors larger than this are tracked by shape only. */
const VALUE_LIMIT = 4096;

const UNARY = new Set([
  'Identity', 'Cast', 'Relu', 'Sigmoid', 'Tanh', 'Erf', 'Sqrt', 'Exp', 'Log', 'Neg', 'Abs', 'Not', 'Floor', 'Ceil',
  'Round', 'Sin', 'Cos', 'Reciprocal', 'Softmax', 'LogSoftmax', 'LeakyRelu', 'Gelu', 'Clip', 'InstanceNormalization',
  'BatchNormalization', 'LayerNormalization', 'Dropout', 'Elu', 'HardSigmoid', 'HardSwish', 'Sign', 'CumSum',
  'ScatterND', 'ScatterElements', 'Trilu', 'PRelu', 'Softplus', 'IsNaN', 'IsInf', 'Selu', 'Mish',
]);
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Max', 'Min', 'Mod', 'Where', 'Sum', 'Mean', 'BitShift']);
const COMPARE = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Not', 'IsNaN', 'IsInf']);

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);
const isInt = (t: number): boolean => t !== ONNX_FLOAT && t !== 10 && t !== 11 && t !== 16;

function attrInt(n: OnnxNodeInfo, k: string, dflt: number): number {
  const v = n.attrs[k];
  return typeof v === 'number' ? v : dflt;
}
function attrInts(n: OnnxNodeInfo, k: string): number[] | undefined {
  const v = n.attrs[k];
  return Array.isArray(v) ? v : undefined;
}

export function broadcastShapes(shapes: number[][]): number[] {
  const r = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    let d = 1;
    for (const s of shapes) {
      const x = s[s.length - r + i] ?? 1;
      if (x !== 1) {
        if (d !== 1 && d !== x) throw new Error(`shapes [${shapes.map((q) => q.join(',')).join('] [')}] do not broadcast`);
        d = x;
      }
    }
    out.push(d);
  }
  return out;
}

/** Row-major index into `shape` of the element at multi-index `idx` of the broadcast output. */
function broadcastAt(shape: number[], out: number[], flat: number): number {
  let idx = 0;
  let stride = 1;
  let rem = flat;
  const coords: number[] = new Array<number>(out.length);
  for (let i = out.length - 1; i >= 0; i--) {
    coords[i] = rem % out[i]!;
    rem = Math.floor(rem / out[i]!);
  }
  for (let i = shape.length - 1, j = out.length - 1; i >= 0; i--, j--) {
    const c = shape[i] === 1 ? 0 : coords[j]!;
    idx += c * stride;
    stride *= shape[i]!;
  }
  return idx;
}

function elementwise(op: string, a: number, b: number, int: boolean): number {
  switch (op) {
    case 'Add': case 'Sum': return a + b;
    case 'Sub': return a - b;
    case 'Mul': return a * b;
    case 'Div': return int ? Math.trunc(a / b) : a / b;
    case 'Pow': return a ** b;
    case 'Mod': return a - b * Math.floor(a / b);
    case 'Max': return Math.max(a, b);
    case 'Min': return Math.min(a, b);
    case 'Mean': return (a + b) / 2;
    case 'Equal': return a === b ? 1 : 0;
    case 'Less': return a < b ? 1 : 0;
    case 'Greater': return a > b ? 1 : 0;
    case 'LessOrEqual': return a <= b ? 1 : 0;
    case 'GreaterOrEqual': return a >= b ? 1 : 0;
    case 'And': return a && b ? 1 : 0;
    case 'Or': return a || b ? 1 : 0;
    case 'Xor': return (a ? 1 : 0) ^ (b ? 1 : 0);
    default: throw new Error(`no value rule for ${op}`);
  }
}

function unaryValue(op: string, x: number, to: number): number | undefined {
  switch (op) {
    case 'Identity': return x;
    case 'Cast': return isInt(to) ? (to === ONNX_BOOL ? (x ? 1 : 0) : Math.trunc(x)) : x;
    case 'Neg': return -x;
    case 'Abs': return Math.abs(x);
    case 'Floor': return Math.floor(x);
    case 'Ceil': return Math.ceil(x);
    case 'Sqrt': return Math.sqrt(x);
    case 'Reciprocal': return 1 / x;
    case 'Not': return x ? 0 : 1;
    case 'Relu': return Math.max(0, x);
    default: return undefined;
  }
}

const norm = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

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

function einsumShape(eq: string, inputs: number[][]): { out: number[]; sizes: Map<string, number> } {
  const [lhs, rhs] = eq.replace(/\s/g, '').split('->');
  const terms = lhs!.split(',');
  if (terms.some((t) => t.includes('.'))) throw new Error(`Einsum ellipsis is not supported: ${eq}`);
  const sizes = new Map<string, number>();
  terms.forEach((t, i) => [...t].forEach((c, j) => sizes.set(c, Math.max(sizes.get(c) ?? 1, inputs[i]![j]!))));
  const outTerm = rhs ?? [...sizes.keys()].filter((c) => terms.join('').split(c).length === 2).sort().join('');
  return { out: [...outTerm].map((c) => sizes.get(c)!), sizes };
}

/**
 * Infers every tensor's shape (and small tensors' values). `given` supplies graph inputs (their
 * concrete shapes, and values where the graph computes shapes from them, such as SAM's
 * orig_im_size). Returns facts by tensor name; unknown tensors are absent.
 */
export function inferShapes(g: OnnxGraphInfo, given: Record<string, { shape: number[]; values?: number[]; dataType?: number }>): Map<string, TensorFacts> {
  const facts = new Map<string, TensorFacts>();
  const fromTensor = (t: OnnxTensorInfo): TensorFacts => ({ shape: t.dims, dataType: t.dataType, ...(t.values ? { values: t.values } : {}) });
  for (const t of g.initializers.values()) facts.set(t.name, fromTensor(t));
  for (const inp of g.inputs) {
    if (facts.has(inp.name)) continue;
    const gv = given[inp.name];
    if (gv) facts.set(inp.name, { shape: gv.shape, dataType: gv.dataType ?? inp.elemType, ...(gv.values ? { values: gv.values } : {}) });
    else if (inp.shape?.every((d) => typeof d === 'number')) facts.set(inp.name, { shape: inp.shape as number[], dataType: inp.elemType });
  }
  for (const n of g.nodes) {
    // An input that is named but unknown leaves the outputs unknown; an empty name is an omitted
    // optional input, seen by the rules as undefined.
    if (n.inputs.some((i) => i !== '' && !facts.has(i))) continue;
    let out: TensorFacts[] | undefined;
    try {
      out = inferNode(n, n.inputs.map((i) => (i === '' ? undefined : facts.get(i))));
    } catch (cause) {
      throw new Error(`shape pass failed at ${n.op} node "${n.name}": ${(cause as Error).message}`, { cause });
    }
    if (!out) continue;
    out.forEach((f, i) => {
      const name = n.outputs[i];
      if (!name) return;
      if (f.values && f.values.length > VALUE_LIMIT) delete f.values;
      facts.set(name, f);
    });
  }
  return facts;
}

function inferNode(n: OnnxNodeInfo, ins: (TensorFacts | undefined)[]): TensorFacts[] | undefined {
  const x = ins[0];
  const op = n.op;
  if (op === 'Constant') {
    const t = n.attrs.value;
    if (t && typeof t === 'object' && 'dims' in t) return [fromConst(t)];
    const f = n.attrs.value_float;
    if (typeof f === 'number') return [{ shape: [], dataType: ONNX_FLOAT, values: [f] }];
    const i = n.attrs.value_int;
    if (typeof i === 'number') return [{ shape: [], dataType: ONNX_INT64, values: [i] }];
    const is = attrInts(n, 'value_ints');
    if (is) return [{ shape: [is.length], dataType: ONNX_INT64, values: is }];
    return undefined;
  }
  if (op === 'ConstantOfShape') {
    if (!x?.values) return undefined;
    const t = n.attrs.value;
    const v = t && typeof t === 'object' && 'dims' in t ? (t.values?.[0] ?? 0) : 0;
    const dt = t && typeof t === 'object' && 'dims' in t ? t.dataType : ONNX_FLOAT;
    const size = prod(x.values);
    return [{ shape: x.values, dataType: dt, ...(size <= VALUE_LIMIT ? { values: new Array<number>(size).fill(v) } : {}) }];
  }
  if (op === 'Range') {
    const [s, l, d] = ins.map((i) => i?.values?.[0]);
    if (s === undefined || l === undefined || d === undefined) return undefined;
    const len = Math.max(0, Math.ceil((l - s) / d));
    return [{ shape: [len], dataType: x!.dataType, values: Array.from({ length: len }, (_, i) => s + i * d) }];
  }
  if (!x) return undefined;
  const xs = x;
  const r = xs.shape.length;
  if (UNARY.has(op)) {
    const to = op === 'Cast' ? attrInt(n, 'to', xs.dataType) : COMPARE.has(op) ? ONNX_BOOL : xs.dataType;
    const vals = xs.values?.map((v) => unaryValue(op, v, to));
    const f: TensorFacts = { shape: xs.shape, dataType: to, ...(vals && vals.every((v) => v !== undefined) ? { values: vals as number[] } : {}) };
    return op === 'LayerNormalization' || op === 'BatchNormalization' || op === 'Dropout' ? [f, { shape: xs.shape, dataType: xs.dataType }, { shape: xs.shape, dataType: xs.dataType }] : [f];
  }
  if (BROADCAST.has(op)) {
    const known = ins.filter((i): i is TensorFacts => i !== undefined);
    if (known.length !== ins.length) return undefined;
    const shape = broadcastShapes(known.map((i) => i.shape));
    const dataType = COMPARE.has(op) ? ONNX_BOOL : op === 'Where' ? ins[1]!.dataType : xs.dataType;
    const f: TensorFacts = { shape, dataType };
    if (known.every((i) => i.values) && prod(shape) <= VALUE_LIMIT) {
      const at = (i: TensorFacts, k: number): number => i.values![broadcastAt(i.shape, shape, k)]!;
      f.values = Array.from({ length: prod(shape) }, (_, k) => {
        if (op === 'Where') return at(known[0]!, k) ? at(known[1]!, k) : at(known[2]!, k);
        return known.slice(1).reduce((acc, i) => elementwise(op, acc, at(i, k), isInt(xs.dataType)), at(known[0]!, k));
      });
    }
    return [f];
  }
  switch (op) {
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

/** Values of an output of `shape` whose element at coordinates c is the input's element at src(c). */
function gatherValues(x: TensorFacts, shape: number[], src: (c: number[]) => number[]): number[] | undefined {
  const size = prod(shape);
  if (size > VALUE_LIMIT) return undefined;
  const out: number[] = [];
  const c = new Array<number>(shape.length).fill(0);
  for (let k = 0; k < size; k++) {
    const s = src(c);
    let idx = 0;
    for (let i = 0; i < s.length; i++) idx = idx * x.shape[i]! + s[i]!;
    out.push(x.values![idx]!);
    for (let i = shape.length - 1; i >= 0; i--) {
      if (++c[i]! < shape[i]!) break;
      c[i] = 0;
    }
  }
  return out;
}

function fromConst(t: OnnxTensorInfo): TensorFacts {
  return { shape: t.dims, dataType: t.dataType, ...(t.values ? { values: t.values } : {}) };
}

export { einsumShape };
