/**
 * Runs (or resumes) a batch: takes the run's lease, puts a dead owner's claimed items back, loads
 * the backends, then keeps every executor slot busy with the next pending item until none is left or
 * the signal fires. Only small status updates happen on the calling thread; computing and committing
 * results happen in the executor (worker threads in the product).
 */
import type { Db } from '../store/db.js';
import { CancelledError } from '../errors.js';
import type { Executor } from './executor.js';
import { EtaEstimator } from './progress.js';
import {
  acquireRun,
  claimNextItem,
  getRun,
  heartbeat,
  itemCounts,
  listItems,
  newLeaseOwner,
  recordBackends,
  releaseRun,
} from './runs.js';
import type { ItemOutcome, RunEvent, RunItem, RunStatus } from './types.js';

export interface RunBatchOptions {
  db: Db;
  runId: number;
  executor: Executor;
  signal?: AbortSignal;
  onEvent?(e: RunEvent): void;
  /** Put failed items back to pending and try them again. */
  retryFailed?: boolean;
  heartbeatMs?: number;
}

export interface RunResult {
  runId: number;
  status: RunStatus;
  items: RunItem[];
}

export async function runBatch(opts: RunBatchOptions): Promise<RunResult> {
  const { db, runId, executor } = opts;
  const emit = (e: RunEvent): void => opts.onEvent?.(e);
  const run = getRun(db, runId);
  const owner = newLeaseOwner();
  acquireRun(db, runId, owner, { retryFailed: opts.retryFailed ?? false });
  const beat = setInterval(() => heartbeat(db, runId, owner), opts.heartbeatMs ?? 15_000);
  beat.unref();
  const onAbort = (): void => executor.cancel();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let status: RunStatus = 'running';
  try {
    const start = itemCounts(db, runId);
    emit({ type: 'run-started', runId, templateSet: run.templateSet, total: start.total, done: start.done, failed: start.failed, resumed: start.done + start.failed > 0 });
    if (start.pending > 0) {
      if (opts.signal?.aborted) throw new CancelledError({ templateSet: run.templateSet });
      const backends = await executor.start();
      recordBackends(db, runId, backends);
      emit({ type: 'backends', runId, backends });
    }
    const eta = new EtaEstimator(executor.concurrency);
    const progress = (): void => {
      const c = itemCounts(db, runId);
      emit({ type: 'run-progress', runId, total: c.total, done: c.done, failed: c.failed, running: c.running, etaMs: eta.etaMs(c.pending + c.running) });
    };
    progress();
    let cancelled = false;
    const loop = async (slot: number): Promise<void> => {
      while (!opts.signal?.aborted) {
        const item = claimNextItem(db, runId);
        if (!item) return;
        const task = { runId, itemId: item.id, seriesUid: item.seriesUid, templateSet: run.templateSet, mode: run.mode };
        emit({ type: 'item-started', runId, itemId: item.id, seriesUid: item.seriesUid });
        const t0 = performance.now();
        const outcome: ItemOutcome = await executor.run(slot, task, (p) =>
          emit({ type: 'item-progress', runId, itemId: item.id, seriesUid: item.seriesUid, progress: p }),
        );
        const ms = performance.now() - t0;
        if (outcome.status === 'cancelled') {
          cancelled = true;
        } else {
          eta.add(ms);
        }
        emit({ type: 'item-finished', runId, itemId: item.id, seriesUid: item.seriesUid, outcome, durationMs: ms });
        heartbeat(db, runId, owner);
        progress();
        if (cancelled) return;
      }
    };
    await Promise.all(Array.from({ length: executor.concurrency }, (_, i) => loop(i)));
    const end = itemCounts(db, runId);
    // Anything left pending was stopped by a cancel; a later call resumes it.
    status = end.pending + end.running === 0 ? 'done' : 'cancelled';
  } catch (e) {
    status = e instanceof CancelledError ? 'cancelled' : 'pending';
    throw e;
  } finally {
    clearInterval(beat);
    opts.signal?.removeEventListener('abort', onAbort);
    await executor.close();
    releaseRun(db, runId, owner, status);
    const c = itemCounts(db, runId);
    emit({ type: 'run-finished', runId, status, total: c.total, done: c.done, failed: c.failed });
  }
  return { runId, status, items: listItems(db, runId) };
}
