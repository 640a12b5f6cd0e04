/**
 * Prepares the next slice's SAM encoder input in a worker thread while the current slice encodes.
 * onnxruntime-node (1.30) runs inference synchronously on the JavaScript thread (its backend's
 * `run` calls the native session inside setImmediate), so work on that thread cannot overlap an
 * encoder run: the windowing, the order-2 spline resize to 1024x1024 and the normalisation
 * (preprocess.ts) of slice n+1 move to a worker instead. The worker runs the same pure functions,
 * so the input is bit-identical to the one the main thread would compute.
 */
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../workers.js';
import type { Volume } from '../volume/volume.js';
import type { SamPreprocessConstants } from './preprocess.js';
import type { PrepReply, PrepRequest } from './prep-worker.js';

type Scalars = Float32Array | Int16Array | Uint8Array | Uint16Array;

export class SlicePreparer {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: Float32Array) => void; reject: (e: Error) => void }>();
  private failed: Error | undefined;

  constructor(private readonly constants: SamPreprocessConstants) {
    this.worker = startWorker(import.meta.url, './prep-worker');
    this.worker.on('message', (m: PrepReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if ('input' in m) p.resolve(m.input);
      else p.reject(new Error(`slice preparation failed: ${m.error}`));
    });
    const fail = (e: Error): void => {
      this.failed = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => {
      if (this.pending.size) fail(new Error(`slice preparation worker exited (code ${code})`));
    });
  }

  /** The encoder input of slice k, computed off this thread. */
  prepare(vol: Volume<Scalars>, k: number, range: { min: number; max: number }): Promise<Float32Array> {
    if (this.failed) return Promise.reject(this.failed);
    const [ni, nj] = vol.dims;
    const n = ni * nj;
    const slice = vol.data.slice(k * n, (k + 1) * n);
    const id = this.nextId++;
    const req: PrepRequest = { id, slice, ni, nj, range, constants: this.constants };
    const p = new Promise<Float32Array>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.worker.postMessage(req, [slice.buffer]);
    return p;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
