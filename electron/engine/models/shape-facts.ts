/**
 * The facts the static shape pass (shape-pass.ts) tracks per tensor, and the helpers its operator
 * rules share: attribute access, axis normalization, ONNX multidirectional broadcasting
 * (onnx/docs/Broadcasting.md) and reading small tensors' values by coordinates.
 */
import { ONNX_FLOAT, type OnnxNodeInfo } from './onnx-graph.js';

export interface TensorFacts {
  shape: number[];
  dataType: number;
  /** Element values (row-major), only for small tensors whose inputs were all known. */
  values?: number[];
}

/** Tensors larger than this are tracked by shape only. */
export const VALUE_LIMIT = 4096;

export const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);
export const isInt = (t: number): boolean => t !== ONNX_FLOAT && t !== 10 && t !== 11 && t !== 16;

export function attrInt(n: OnnxNodeInfo, k: string, dflt: number): number {
  const v = n.attrs[k];
  return typeof v === 'number' ? v : dflt;
}
export function attrInts(n: OnnxNodeInfo, k: string): number[] | undefined {
  const v = n.attrs[k];
  return Array.isArray(v) ? v : undefined;
}

export const norm = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

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
export function broadcastAt(shape: number[], out: number[], flat: number): number {
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

/** Values of an output of `shape` whose element at coordinates c is the input's element at src(c). */
export function gatherValues(x: TensorFacts, shape: number[], src: (c: number[]) => number[]): number[] | undefined {
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
