/**
 * What a worker does with one item, independent of where it runs: compute (the work function), then
 * commit (commit.ts) on the worker's own database connection. The work function comes from a "work
 * module" that exports `createWork`; the product's module is pipeline.ts (load the series, localize,
 * segment with the backends of backends.ts). Tests of the queue itself pass their own module.
 */
import type { Db } from '../store/db.js';
import { CancelledError, toErrorPayload } from '../errors.js';
import { commitItemFailure, commitItemSuccess } from './commit.js';
import { releaseItem } from './runs.js';
import type { BackendInfo, ItemOutcome, ItemOutput, ItemProgress, ItemTask } from './types.js';

export interface WorkContext {
  db: Db;
  signal: AbortSignal;
  onProgress(p: ItemProgress): void;
}

export interface Work {
  /** The backends this work uses, with verified model hashes (recorded on the run). */
  readonly backends: BackendInfo;
  process(task: ItemTask, ctx: WorkContext): Promise<ItemOutput>;
  close?(): Promise<void>;
}

/** Options a work module receives; plain data, so they cross into a worker thread. */
export interface WorkOptions {
  /** Database file (workers open their own connection). */
  dbPath: string;
  /** Models folder (MedLAM/MedSAM); absent or unverified means the weight-free backend. */
  modelsDir?: string;
  /** Force a backend by name ('medlam', 'atlas'); default: the best available. */
  backend?: string;
  /** Free-form settings for test work modules. */
  extra?: Record<string, string | number | boolean>;
}

export type WorkFactory = (opts: WorkOptions) => Promise<Work>;

function isCancel(e: unknown, signal: AbortSignal): boolean {
  if (e instanceof CancelledError) return true;
  // Backends may surface the signal's own reason (a DOMException named AbortError).
  return signal.aborted && e instanceof Error && (e.name === 'AbortError' || e === signal.reason);
}

/**
 * Runs one claimed item to its end state. Cancellation puts the item back to `pending` with nothing
 * committed; any other error is recorded on the item and the run goes on.
 */
export async function executeItem(db: Db, work: Work, task: ItemTask, signal: AbortSignal, onProgress: (p: ItemProgress) => void): Promise<ItemOutcome> {
  const t0 = performance.now();
  try {
    if (signal.aborted) throw new CancelledError({ seriesUid: task.seriesUid });
    const out = await work.process(task, { db, signal, onProgress });
    // Finished work is committed even when cancel arrived during the last step: it is complete.
    const structures = commitItemSuccess(db, task, out, performance.now() - t0);
    return { status: 'done', structures };
  } catch (e) {
    if (isCancel(e, signal)) {
      releaseItem(db, task.itemId);
      return { status: 'cancelled' };
    }
    try {
      return { status: 'failed', error: commitItemFailure(db, task, e, performance.now() - t0) };
    } catch (recordError) {
      // The database itself refused (disk full, locked): report both, the item stays claimed and a
      // resumed run will redo it.
      const p = toErrorPayload(e);
      return { status: 'failed', error: { ...p, message: `${p.message}; and its failure could not be recorded: ${(recordError as Error).message}` } };
    }
  }
}
