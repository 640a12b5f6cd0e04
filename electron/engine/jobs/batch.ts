/**
 * The entry point for clients of the batch queue (the CLI's `run`, the service layer behind the api):
 * finds or creates the run, starts the worker-thread executor with the product's pipeline, and
 * exposes progress as events, a cancel and a promise of the final state. The run is stored before
 * this returns, so a client can show it at once; everything heavy happens in worker threads.
 */
import { EventEmitter } from 'node:events';
import type { Db } from '../store/db.js';
import { InputError } from '../errors.js';
import { createOrFindRun, type RunRequest } from './runs.js';
import { runBatch, type RunResult } from './runner.js';
import { WorkerExecutor } from './pool.js';
import type { RunEvent } from './types.js';

export interface StartBatchOptions {
  /** The caller's connection (small status updates only) and the file the workers open. */
  db: Db;
  dbPath: string;
  request: RunRequest;
  workers?: number;
  modelsDir?: string;
  backend?: string;
  retryFailed?: boolean;
  /** Outside cancellation (Ctrl-C in the CLI); cancel() does the same. */
  signal?: AbortSignal;
}

export interface BatchHandle {
  runId: number;
  /** True when an existing run of the same set and series was found (resumed, or already finished). */
  resumed: boolean;
  /** Emits 'event' with each RunEvent, in order. */
  events: EventEmitter<{ event: [RunEvent] }>;
  cancel(): void;
  done: Promise<RunResult>;
}

export function startBatch(o: StartBatchOptions): BatchHandle {
  if (o.dbPath === ':memory:') throw new InputError('a batch run needs a database file: its workers open their own connections');
  const { run, resumed } = createOrFindRun(o.db, o.request);
  const controller = new AbortController();
  const onOuter = (): void => controller.abort();
  if (o.signal?.aborted) controller.abort();
  o.signal?.addEventListener('abort', onOuter, { once: true });
  const events = new EventEmitter<{ event: [RunEvent] }>();
  const executor = new WorkerExecutor({
    db: o.db,
    workers: o.workers ?? 1,
    options: {
      dbPath: o.dbPath,
      ...(o.modelsDir !== undefined ? { modelsDir: o.modelsDir } : {}),
      ...(o.backend !== undefined ? { backend: o.backend } : {}),
    },
  });
  // Started on the next tick so that a caller can attach listeners before the first event.
  const done = new Promise<void>((resolve) => setImmediate(resolve))
    .then(() =>
      runBatch({
        db: o.db,
        runId: run.id,
        executor,
        signal: controller.signal,
        retryFailed: o.retryFailed ?? false,
        onEvent: (e) => events.emit('event', e),
      }),
    )
    .finally(() => o.signal?.removeEventListener('abort', onOuter));
  return { runId: run.id, resumed, events, cancel: () => controller.abort(), done };
}
