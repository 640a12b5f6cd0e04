/**
 * Counts the arithmetic of an ONNX model from its graph: the multiply-accumulates of Conv,
 * ConvTranspose, MatMul (attention's Q·Kᵀ and A·V included), Gemm and Einsum, at 2 FLOPs per
 * multiply-accumulate, with shapes from the static shape pass (shape-pass.ts). Element-wise ops,
 * normalisations, softmax and resampling are memory-bound and not counted: the figure is the work
 * a GEMM-bound kernel must do, so time at the machine's measured GEMM peak is a lower bound.
 */
import { readOnnxModel, type OnnxGraphInfo, type OnnxNodeInfo } from './onnx-graph.js';
import { einsumShape, inferShapes, type TensorFacts } from './shape-pass.js';

export interface FlopCount {
  /** Total FLOPs of the counted ops. */
  flops: number;
  /** FLOPs per op type. */
  byOp: Record<string, number>;
  /** Number of counted nodes per op type. */
  nodes: Record<string, number>;
  /** Nodes of a counted type whose shapes could not be derived (their work is missing from flops). */
  unresolved: string[];
}

const COUNTED = new Set(['Conv', 'ConvTranspose', 'MatMul', 'Gemm', 'Einsum']);
const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/** Multiply-accumulates of one node, given its input and output shapes. */
export function nodeMacs(n: OnnxNodeInfo, ins: number[][], out: number[]): number {
  switch (n.op) {
    case 'Conv': {
      // Every output element is a dot product over (C / group) x kernel.
      const w = ins[1]!;
      return prod(out) * prod(w.slice(1));
    }
    case 'ConvTranspose': {
      // Every input element scatters into (M / group) x kernel outputs; W is [C, M / group, k...].
      const w = ins[1]!;
      return prod(ins[0]!) * prod(w.slice(1));
    }
    case 'MatMul': {
      const a = ins[0]!;
      const k = a[a.length - 1]!;
      return prod(out) * k;
    }
    case 'Gemm': {
      const a = ins[0]!;
      const transA = n.attrs.transA === 1;
      const k = transA ? a[0]! : a[1]!;
      return prod(out) * k;
    }
    case 'Einsum': {
      // A contraction costs the product of every index's extent (output and summed indices alike).
      const { sizes } = einsumShape(String(n.attrs.equation), ins);
      return prod([...sizes.values()]);
    }
    default:
      return 0;
  }
}

/** Counts a parsed graph's FLOPs, given concrete input shapes (and values where shapes depend on them). */
export function countGraphFlops(g: OnnxGraphInfo, inputs: Record<string, { shape: number[]; values?: number[] }>): FlopCount {
  const facts = inferShapes(g, inputs);
  const res: FlopCount = { flops: 0, byOp: {}, nodes: {}, unresolved: [] };
  for (const n of g.nodes) {
    if (!COUNTED.has(n.op)) continue;
    const ins = n.inputs.filter((i) => i !== '').map((i) => facts.get(i));
    const out: TensorFacts | undefined = facts.get(n.outputs[0]!);
    if (!out || ins.some((i) => i === undefined)) {
      res.unresolved.push(`${n.op} ${n.name || n.outputs[0]}`);
      continue;
    }
    const f = 2 * nodeMacs(n, ins.map((i) => i!.shape), out.shape);
    res.flops += f;
    res.byOp[n.op] = (res.byOp[n.op] ?? 0) + f;
    res.nodes[n.op] = (res.nodes[n.op] ?? 0) + 1;
  }
  return res;
}

/** Counts an ONNX file's FLOPs for one forward pass with the given input shapes. */
export function countModelFlops(file: string, inputs: Record<string, { shape: number[]; values?: number[] }>): FlopCount {
  try {
    return countGraphFlops(readOnnxModel(file).graph, inputs);
  } catch (cause) {
    throw new Error(`cannot count FLOPs of ${file}: ${(cause as Error).message}`, { cause });
  }
}
