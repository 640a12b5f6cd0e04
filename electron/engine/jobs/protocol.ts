/** Messages between pool.ts (the calling thread) and worker.ts. All structured-clonable. */
import type { ErrorPayload } from '../errors.js';
import type { WorkOptions } from './work.js';
import type { BackendInfo, ItemOutcome, ItemProgress, ItemTask } from './types.js';

export interface WorkerInit {
  /** URL (file:) of the module exporting createWork. */
  workModule: string;
  options: WorkOptions;
}

export type ToWorker = { type: 'item'; task: ItemTask } | { type: 'cancel' } | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; backends: BackendInfo }
  | { type: 'init-failed'; error: ErrorPayload }
  | { type: 'progress'; itemId: number; progress: ItemProgress }
  | { type: 'outcome'; itemId: number; outcome: ItemOutcome };
