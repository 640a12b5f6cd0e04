/**
 * This machine's measured ceilings for the limits bench (limits.ts): sustained float32 GEMM
 * throughput of ONNX Runtime's MatMul kernel on large square matrices (the kernel every counted
 * model op lowers to: Conv via im2col/GEMM, attention's matmuls, Gemm) with the same session options
 * as the pipeline, and memory read bandwidth (ONNX Runtime ReduceSum over a 256 MB tensor, same
 * thread pool). Both are the best sustained figure over several seconds, not a one-shot peak.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildModel } from '../../electron/engine/models/onnx-builder.js';
import { ort } from '../../electron/engine/models/session.js';

export interface Peak {
  /** FLOP/s or bytes/s. */
  rate: number;
  detail: string;
}

function randomArray(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

/** Runs `fn` until `seconds` have passed (at least `min` times) and returns the per-run times (s). */
async function repeat(fn: () => Promise<void>, seconds: number, min = 3): Promise<number[]> {
  const times: number[] = [];
  const t0 = performance.now();
  while (times.length < min || performance.now() - t0 < seconds * 1000) {
    const t = performance.now();
    await fn();
    times.push((performance.now() - t) / 1000);
  }
  return times;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Sustained MatMul FLOP/s at n x n x n (2 n^3 FLOPs per run), median of runs over `seconds`. */
export async function gemmPeak(sizes: number[], seconds: number): Promise<{ best: Peak; rows: string[] }> {
  const model = buildModel({
    name: 'gemm',
    nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['c'] }],
    inputs: [{ name: 'a', shape: ['M', 'K'] }, { name: 'b', shape: ['K', 'N'] }],
    outputs: [{ name: 'c', shape: ['M', 'N'] }],
  });
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', enableCpuMemArena: false });
  const rows: string[] = [];
  let best: Peak = { rate: 0, detail: '' };
  try {
    for (const n of sizes) {
      const a = new ort.Tensor('float32', randomArray(n * n, 1), [n, n]);
      const b = new ort.Tensor('float32', randomArray(n * n, 2), [n, n]);
      const run = async (): Promise<void> => {
        const out = await session.run({ a, b });
        out.c!.dispose();
      };
      await run();
      const t = median(await repeat(run, seconds));
      const rate = (2 * n ** 3) / t;
      rows.push(`MatMul ${n}x${n}x${n}: ${(t * 1000).toFixed(0)} ms per run, ${(rate / 1e9).toFixed(1)} GFLOP/s`);
      if (rate > best.rate) best = { rate, detail: `MatMul ${n}^3` };
    }
  } finally {
    await session.release();
  }
  return { best, rows };
}

/** Memory read bandwidth: ReduceSum over a `mb` MB float32 tensor, median over `seconds`. */
export async function readBandwidth(mb: number, seconds: number): Promise<Peak> {
  const model = buildModel({
    name: 'read',
    nodes: [{ op: 'ReduceSum', inputs: ['x'], outputs: ['y'], attrs: [{ name: 'keepdims', int: 0 }] }],
    inputs: [{ name: 'x', shape: ['N'] }],
    outputs: [{ name: 'y', shape: [] }],
  });
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', enableCpuMemArena: false });
  try {
    const n = (mb * 2 ** 20) / 4;
    const x = new ort.Tensor('float32', randomArray(n, 3), [n]);
    const run = async (): Promise<void> => {
      const out = await session.run({ x });
      out.y!.dispose();
    };
    await run();
    const t = median(await repeat(run, seconds));
    return { rate: (n * 4) / t, detail: `ReduceSum over ${mb} MB` };
  } finally {
    await session.release();
  }
}

/** Every regular file under `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** Time (s) to read every file once from the page cache (the second of two passes), and the bytes. */
export function cachedReadTime(files: string[]): { seconds: number; bytes: number } {
  let bytes = 0;
  for (const f of files) bytes += statSync(f).size;
  for (const f of files) readFileSync(f);
  const t = performance.now();
  for (const f of files) readFileSync(f);
  return { seconds: (performance.now() - t) / 1000, bytes };
}

export { median, randomArray, repeat };
