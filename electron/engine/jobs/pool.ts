/**
 * The product's executor: one worker thread per slot (worker.ts), so that decoding, resampling and
 * ONNX inference never run on Electron's main thread (DESIGN.md "Processes and folders"). A worker
 * that dies mid-item (uncaught error, out of memory) fails that item with the reason and is replaced;
 * one that ignores a cancel for `cancelGraceMs` is terminated and its item goes back to pending
 * (terminating a thread mid-transaction rolls the transaction back).
 */
import type { Worker } from 'node:worker_threads';
import { startWorker, workerUrl } from '../workers.js';
import type { Db } from '../store/db.js';
import { fromErrorPayload, DelineateError, type ErrorPayload } from '../errors.js';
import { commitItemFailure } from './commit.js';
import { releaseItem } from './runs.js';
import type { Executor } from './executor.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import type { WorkOptions } from './work.js';
import type { BackendInfo, ItemOutcome, ItemProgress, ItemTask } from './types.js';

export interface WorkerExecutorOptions {
  /** The calling thread's connection: records items whose worker died. */
  db: Db;
  options: WorkOptions;
  /** Worker threads (default 1: one ONNX session set already uses every core). */
  workers?: number;
  /** Module exporting createWork (default: pipeline.ts, the product's backends). */
  workModule?: string | URL;
  cancelGraceMs?: number;
}

interface Current {
  task: ItemTask;
  onProgress(p: ItemProgress): void;
  resolve(o: ItemOutcome): void;
  startedMs: number;
}

function defaultWorkModule(): string {
  return workerUrl(import.meta.url, './pipeline').url.href;
}

function spawnWorker(init: WorkerInit): Worker {
  // TypeScript under tsx (dev, tests, the CLI) or compiled JavaScript (the packaged app).
  return startWorker(import.meta.url, './worker', { workerData: init });
}

class Slot {
  worker: Worker | undefined;
  ready: Promise<BackendInfo> | undefined;
  current: Current | undefined;
  lastError: Error | undefined;
  terminatedForCancel = false;

  constructor(private readonly owner: WorkerExecutor) {}

  ensure(): Promise<BackendInfo> {
    if (this.worker && this.ready) return this.ready;
    const w = spawnWorker(this.owner.init);
    this.worker = w;
    this.lastError = undefined;
    this.terminatedForCancel = false;
    this.ready = new Promise<BackendInfo>((resolve, reject) => {
      w.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'ready':
            resolve(m.backends);
            break;
          case 'init-failed':
            reject(fromErrorPayload(m.error));
            break;
          case 'progress':
            if (this.current?.task.itemId === m.itemId) this.current.onProgress(m.progress);
            break;
          case 'outcome': {
            const c = this.current;
            if (c?.task.itemId === m.itemId) {
              this.current = undefined;
              c.resolve(m.outcome);
            }
            break;
          }
          default: {
            const never: never = m;
            throw new Error(`unknown worker message ${JSON.stringify(never)}`);
          }
        }
      });
      w.on('error', (e) => {
        this.lastError = e;
      });
      w.on('exit', (code) => {
        if (this.worker === w) {
          this.worker = undefined;
          this.ready = undefined;
        }
        reject(this.lastError ?? new DelineateError('internal', `batch worker exited with code ${code} while loading its backends`));
        const c = this.current;
        if (!c) return;
        this.current = undefined;
        if (this.terminatedForCancel) {
          releaseItem(this.owner.db, c.task.itemId);
          c.resolve({ status: 'cancelled' });
          return;
        }
        const why = this.lastError?.message ?? `exit code ${code}`;
        const err = new DelineateError('internal', `the batch worker stopped while processing series ${c.task.seriesUid}: ${why}`, { seriesUid: c.task.seriesUid });
        const error: ErrorPayload = commitItemFailure(this.owner.db, c.task, err, performance.now() - c.startedMs);
        c.resolve({ status: 'failed', error });
      });
    });
    // An init failure is reported through start()/run(); keep it from being an unhandled rejection here.
    this.ready.catch(() => undefined);
    return this.ready;
  }

  post(m: ToWorker): void {
    this.worker?.postMessage(m);
  }
}

export class WorkerExecutor implements Executor {
  readonly concurrency: number;
  readonly init: WorkerInit;
  readonly db: Db;
  private readonly slots: Slot[];
  private readonly cancelGraceMs: number;
  private cancelled = false;

  constructor(opts: WorkerExecutorOptions) {
    this.db = opts.db;
    this.concurrency = Math.max(1, Math.floor(opts.workers ?? 1));
    const mod = opts.workModule ?? defaultWorkModule();
    this.init = { workModule: typeof mod === 'string' ? mod : mod.href, options: opts.options };
    this.cancelGraceMs = opts.cancelGraceMs ?? 30_000;
    this.slots = Array.from({ length: this.concurrency }, () => new Slot(this));
  }

  async start(): Promise<BackendInfo> {
    const infos = await Promise.all(this.slots.map((s) => s.ensure()));
    return infos[0]!;
  }

  async run(slot: number, task: ItemTask, onProgress: (p: ItemProgress) => void): Promise<ItemOutcome> {
    const s = this.slots[slot];
    if (!s) throw new RangeError(`slot ${slot} of ${this.concurrency}`);
    if (this.cancelled) {
      releaseItem(this.db, task.itemId);
      return { status: 'cancelled' };
    }
    await s.ensure();
    return new Promise<ItemOutcome>((resolve) => {
      s.current = { task, onProgress, resolve, startedMs: performance.now() };
      s.post({ type: 'item', task });
    });
  }

  cancel(): void {
    this.cancelled = true;
    for (const s of this.slots) {
      s.post({ type: 'cancel' });
      if (!s.current) continue;
      const w = s.worker;
      const timer = setTimeout(() => {
        if (s.current && s.worker === w) {
          s.terminatedForCancel = true;
          void w?.terminate();
        }
      }, this.cancelGraceMs);
      timer.unref();
    }
  }

  async close(): Promise<void> {
    await Promise.all(
      this.slots.map(async (s) => {
        const w = s.worker;
        if (!w) return;
        const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
        s.post({ type: 'close' });
        const t = setTimeout(() => void w.terminate(), 10_000);
        await exited;
        clearTimeout(t);
      }),
    );
  }
}
