/**
 * Executors run claimed items. The product uses WorkerExecutor (pool.ts): heavy work in
 * node:worker_threads, never on Electron's main thread. InlineExecutor runs a work function on the
 * calling thread: for tests of the queue and for tools that are already in a worker.
 */
import type { Db } from '../store/db.js';
import { executeItem, type Work } from './work.js';
import type { BackendInfo, ItemOutcome, ItemProgress, ItemTask } from './types.js';

export interface Executor {
  /** How many items run at once (the runner keeps that many claimed). */
  readonly concurrency: number;
  /** Loads the backends; resolves with what they report (names, model hashes). */
  start(): Promise<BackendInfo>;
  /** Runs one claimed item on a slot (0 <= slot < concurrency) to its end state. */
  run(slot: number, task: ItemTask, onProgress: (p: ItemProgress) => void): Promise<ItemOutcome>;
  /** Asks the running items to stop (the AbortSignal reaches the backends). */
  cancel(): void;
  close(): Promise<void>;
}

export class InlineExecutor implements Executor {
  readonly concurrency: number;
  private readonly controller = new AbortController();

  constructor(
    private readonly db: Db,
    private readonly work: Work,
    opts: { concurrency?: number } = {},
  ) {
    this.concurrency = opts.concurrency ?? 1;
  }

  start(): Promise<BackendInfo> {
    return Promise.resolve(this.work.backends);
  }

  run(_slot: number, task: ItemTask, onProgress: (p: ItemProgress) => void): Promise<ItemOutcome> {
    return executeItem(this.db, this.work, task, this.controller.signal, onProgress);
  }

  cancel(): void {
    this.controller.abort();
  }

  async close(): Promise<void> {
    await this.work.close?.();
  }
}
