/**
 * Decodes the slices of a series on worker threads (node:worker_threads), one per core up to
 * MAX_WORKERS. The pool is started on first use and kept for the process's life (a worker's start
 * costs more than decoding a series' worth of uncompressed slices), unreferenced while idle so it
 * never keeps a process alive. Each worker reads and decodes whole files; the samples come back by
 * transfer (decode-worker.ts). Small series decode on the calling thread: there a worker's start
 * would cost more than it saves.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { CancelledError, DelineateError, InputError, fromErrorPayload, throwIfAborted, type ErrorContext, type ErrorPayload } from '../errors.js';
import { startWorker } from '../workers.js';
import type { FileHeader } from './header.js';
import { decodeSliceFile, newScratch, type PixelLayout, type SliceSamples } from './pixels.js';
import { headerOrSkip } from './read-header.js';

/** More workers than this gain nothing on a local disk (reads become the limit). */
const MAX_WORKERS = 4;
/** Fewer slices than this decode inline. */
export const MIN_SLICES_FOR_WORKERS = 8;

export interface DecodeRequest {
  batch: number;
  index: number;
  path: string;
  rows: number;
  columns: number;
}

export interface HeaderRequest {
  batch: number;
  index: number;
  header: FileToRead;
}

export interface FileToRead {
  path: string;
  size: number;
  mtimeMs: number;
}

export type DecodeReply =
  | { batch: number; index: number; kind: SliceSamples['kind']; buffer: ArrayBuffer }
  | { batch: number; index: number; header: FileHeader }
  | { batch: number; index: number; error: ErrorPayload };

export interface DecodeOptions {
  signal?: AbortSignal;
  /** Worker threads; 0 decodes on the calling thread. Default: one per core, at most MAX_WORKERS (none below MIN_SLICES_FOR_WORKERS slices). */
  workers?: number;
  /** Context for the cancellation error. */
  seriesUid?: string;
  /**
   * onSlice copies the samples and keeps no reference to them: their buffer then goes back to the
   * worker for its next slice (transferred, so the samples are unusable after onSlice returns).
   */
  recycle?: boolean;
}

interface Batch {
  onReply(r: DecodeReply, w: Worker): void;
  onFail(e: Error): void;
}

/*
 * Several loads may run at once (the viewer's volume and a pipeline's): replies are routed by batch,
 * and the workers are referenced while any batch is open, so a pending load keeps the process alive.
 */
const pool: Worker[] = [];
const batches = new Map<number, Batch>();
let nextBatch = 0;

function spawn(): Worker {
  const worker = startWorker(import.meta.url, './decode-worker');
  worker.on('message', (r: DecodeReply) => batches.get(r.batch)?.onReply(r, worker));
  const fail = (e: Error): void => {
    const i = pool.indexOf(worker);
    if (i >= 0) pool.splice(i, 1);
    for (const b of [...batches.values()]) b.onFail(e);
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`slice decode worker exited with code ${code}`)));
  if (batches.size === 0) worker.unref();
  return worker;
}

function open(id: number, b: Batch): void {
  batches.set(id, b);
  if (batches.size === 1) for (const w of pool) w.ref();
}

function close(id: number): void {
  batches.delete(id);
  if (batches.size === 0) for (const w of pool) w.unref();
}

function rebuild(r: ErrorPayload): DelineateError {
  return r.code === 'bad-input' ? new InputError(r.message, r.context) : fromErrorPayload(r);
}

/** Workers for `n` items: `workers` if given, else none below `min` items, else one per core up to MAX_WORKERS; never more than `n`. */
function poolSize(n: number, min: number, workers: number | undefined): number {
  return Math.min(workers ?? (n < min ? 0 : Math.min(MAX_WORKERS, availableParallelism())), n);
}

/**
 * What a batch does with one reply: true counts it as done, false ignores it, an Error rejects the
 * batch with it.
 */
type Accept = (r: DecodeReply, w: Worker) => boolean | Error;

/**
 * Sends requests 0..count-1 (`post`) to the first `wanted` pool workers, `inFlight` at a time per
 * worker, each worker getting the next index as soon as one of its replies is accepted. Resolves when
 * `count` replies were accepted; rejects with the first Error `accept` returns, a worker's failure or
 * CancelledError on abort. Requests still in flight then finish in their workers and are dropped.
 */
async function dispatch(
  count: number,
  wanted: number,
  inFlight: number,
  signal: AbortSignal | undefined,
  ctx: ErrorContext | undefined,
  post: (w: Worker, batch: number, index: number) => void,
  accept: Accept,
): Promise<void> {
  throwIfAborted(signal, ctx);
  while (pool.length < wanted) pool.push(spawn());
  const workers = pool.slice(0, wanted);
  const batch = nextBatch++;
  let next = 0;
  let done = 0;
  await new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      close(batch);
      if (err) reject(err);
      else resolve();
    };
    const onAbort = (): void => finish(new CancelledError(ctx));
    signal?.addEventListener('abort', onAbort, { once: true });
    const feed = (w: Worker): void => {
      if (settled || next >= count) return;
      post(w, batch, next++);
    };
    open(batch, {
      onReply(r, w): void {
        if (settled) return;
        const verdict = accept(r, w);
        if (verdict instanceof Error) return finish(verdict);
        if (!verdict) return;
        if (++done === count) return finish();
        feed(w);
      },
      onFail: (e) => finish(e),
    });
    for (const w of workers) for (let k = 0; k < inFlight; k++) feed(w);
  });
}

/**
 * Decodes `paths` (all of one series' layout) and calls `onSlice(index, samples)` for each, in
 * completion order. Rejects with the first decode error (an InputError naming the file) or
 * CancelledError; slices still in flight then finish in their workers and are dropped.
 */
export async function decodeSlices(
  paths: string[],
  layout: PixelLayout,
  onSlice: (index: number, s: SliceSamples) => void,
  opts: DecodeOptions = {},
): Promise<void> {
  const ctx = opts.seriesUid ? { seriesUid: opts.seriesUid } : {};
  const wanted = poolSize(paths.length, MIN_SLICES_FOR_WORKERS, opts.workers);
  if (wanted <= 0) {
    const scratch = newScratch();
    for (let i = 0; i < paths.length; i++) {
      if (i % 8 === 0) await new Promise((r) => setImmediate(r));
      throwIfAborted(opts.signal, ctx);
      onSlice(i, await decodeSliceFile(paths[i]!, layout, scratch));
    }
    return;
  }
  // Two requests in flight per worker, so a worker never waits for the next path.
  await dispatch(paths.length, wanted, 2, opts.signal, ctx, (w, batch, index) => {
    w.postMessage({ batch, index, path: paths[index]!, rows: layout.rows, columns: layout.columns } satisfies DecodeRequest);
  }, (r, w) => {
    if ('error' in r) return rebuild(r.error);
    if ('header' in r) return false;
    const data = r.kind === 'int16' ? new Int16Array(r.buffer) : new Float32Array(r.buffer);
    try {
      onSlice(r.index, { kind: r.kind, data } as SliceSamples);
    } catch (e) {
      return e as Error;
    }
    if (opts.recycle && r.kind === 'int16') w.postMessage({ recycle: r.buffer }, [r.buffer]);
    return true;
  });
}

/** Fewer files than this are read on the calling thread. */
export const MIN_FILES_FOR_WORKERS = 32;

/**
 * Import headers (read-header.ts) of `files`, in their order, read on the pool's workers when there
 * are enough files (the importing thread meanwhile only waits; parsing is most of a header read).
 * Never rejects for a file: a file that cannot be read is a skip naming it. `onDone` counts progress.
 */
export async function readHeaders(files: FileToRead[], onDone: () => void, opts: { signal?: AbortSignal; workers?: number } = {}): Promise<FileHeader[]> {
  const wanted = poolSize(files.length, MIN_FILES_FOR_WORKERS, opts.workers);
  const out: FileHeader[] = new Array(files.length);
  if (wanted <= 0) {
    for (let i = 0; i < files.length; i++) {
      if (i % 32 === 0) await new Promise((r) => setImmediate(r));
      throwIfAborted(opts.signal);
      const f = files[i]!;
      out[i] = headerOrSkip(f.path, f.size, f.mtimeMs);
      onDone();
    }
    return out;
  }
  // A few requests in flight per worker: each is short.
  await dispatch(files.length, wanted, 4, opts.signal, undefined, (w, batch, index) => {
    w.postMessage({ batch, index, header: files[index]! } satisfies HeaderRequest);
  }, (r) => {
    if (!('header' in r)) return false;
    out[r.index] = r.header;
    onDone();
    return true;
  });
  return out;
}
