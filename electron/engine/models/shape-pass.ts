/**
 * Static shape inference over an ONNX graph (onnx-graph.ts), for counting a model's arithmetic
 * without running it. PyTorch's exporter writes no value_info for intermediates, and the shapes of
 * its graphs are computed inside the graph (Shape -> Gather -> Concat -> Reshape), so small integer
 * tensors are evaluated too. Ops follow the ONNX operator specification (onnx/docs/Operators.md) at
 * opsets 13-17. A tensor whose shape cannot be derived (a data-dependent op such as NonZero, an op
 * this pass does not know) stays unknown, and whatever depends on it is reported as such rather than
 * guessed.
 *
 * This file is the entry point and holds the element-wise ops (constants, unary and broadcasting
 * ops, with their values); shape-layout.ts and shape-compute.ts hold the other operator families,
 * shape-facts.ts what they share.
 */
import { ONNX_BOOL, ONNX_FLOAT, ONNX_INT64, type OnnxGraphInfo, type OnnxNodeInfo, type OnnxTensorInfo } from './onnx-graph.js';
import { einsumShape, inferCompute } from './shape-compute.js';
import { VALUE_LIMIT, attrInt, attrInts, broadcastAt, broadcastShapes, isInt, prod, type TensorFacts } from './shape-facts.js';
import { inferLayout } from './shape-layout.js';

export type { TensorFacts };
export { broadcastShapes, einsumShape };

const UNARY = new Set([
  'Identity', 'Cast', 'Relu', 'Sigmoid', 'Tanh', 'Erf', 'Sqrt', 'Exp', 'Log', 'Neg', 'Abs', 'Not', 'Floor', 'Ceil',
  'Round', 'Sin', 'Cos', 'Reciprocal', 'Softmax', 'LogSoftmax', 'LeakyRelu', 'Gelu', 'Clip', 'InstanceNormalization',
  'BatchNormalization', 'LayerNormalization', 'Dropout', 'Elu', 'HardSigmoid', 'HardSwish', 'Sign', 'CumSum',
  'ScatterND', 'ScatterElements', 'Trilu', 'PRelu', 'Softplus', 'IsNaN', 'IsInf', 'Selu', 'Mish',
]);
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Max', 'Min', 'Mod', 'Where', 'Sum', 'Mean', 'BitShift']);
const COMPARE = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Not', 'IsNaN', 'IsInf']);

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

/**
 * Infers every tensor's shape (and small tensors' values). `given` supplies graph inputs (their
 * concrete shapes, and values where the graph computes shapes from them, such as SAM's
 * orig_im_size). Returns facts by tensor name; unknown tensors are absent.
 */
export function inferShapes(g: OnnxGraphInfo, given: Record<string, { shape: number[]; values?: number[]; dataType?: number }>): Map<string, TensorFacts> {
  const facts = new Map<string, TensorFacts>();
  for (const t of g.initializers.values()) facts.set(t.name, fromConst(t));
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
  // Each family answers undefined for an op it does not know (as for facts it cannot derive).
  return inferLayout(n, xs, ins) ?? inferCompute(n, xs, ins);
}

function fromConst(t: OnnxTensorInfo): TensorFacts {
  return { shape: t.dims, dataType: t.dataType, ...(t.values ? { values: t.values } : {}) };
}
