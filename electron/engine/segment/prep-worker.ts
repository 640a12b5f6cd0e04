/**
 * Worker thread of SlicePreparer (prep-ahead.ts): turns one raw CT slice into the SAM encoder input
 * with the same pure functions as the main thread (preprocess.ts), so the result is bit-identical.
 */
import { parentPort } from 'node:worker_threads';
import type { Mat3 } from '../volume/geometry.js';
import { encoderInput, sliceImage, windowSlice, type SamPreprocessConstants } from './preprocess.js';

export interface PrepRequest {
  id: number;
  slice: Float32Array | Int16Array | Uint8Array | Uint16Array;
  ni: number;
  nj: number;
  range: { min: number; max: number };
  constants: SamPreprocessConstants;
}

export type PrepReply = { id: number; input: Float32Array } | { id: number; error: string };

parentPort?.on('message', (m: PrepRequest) => {
  try {
    const vol = { dims: [m.ni, m.nj, 1] as [number, number, number], spacing: [1, 1, 1] as [number, number, number], origin: [0, 0, 0] as [number, number, number], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] as Mat3, data: m.slice };
    const pre = windowSlice(vol, 0, m.constants.windowHu, m.range);
    const input = encoderInput(sliceImage(pre, m.nj, m.ni, m.constants), m.constants);
    parentPort!.postMessage({ id: m.id, input } satisfies PrepReply, [input.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: (e as Error).message } satisfies PrepReply);
  }
});
