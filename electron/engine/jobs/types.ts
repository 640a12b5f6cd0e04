/**
 * Types shared by the batch queue, its workers, the service layer and the CLI. Everything that
 * crosses the worker boundary is structured-clonable (plain objects, typed arrays, ErrorPayload).
 */
import type { ErrorPayload } from '../errors.js';
import type { LocalizedStructure, ModelRef } from '../localize/localizer.js';
import type { SegmentedStructure } from '../segment/segmenter.js';

export type RunStatus = 'pending' | 'running' | 'cancelled' | 'done';
export type ItemStatus = 'pending' | 'running' | 'done' | 'failed';
export type Mode = 'wpl' | 'spl';

export interface RunItem {
  id: number;
  runId: number;
  position: number;
  seriesUid: string;
  status: ItemStatus;
  attempts: number;
  error: ErrorPayload | null;
  durationMs: number | null;
}

export interface RunInfo {
  id: number;
  templateSet: string;
  selection: string;
  mode: Mode;
  status: RunStatus;
  localizer: string | null;
  segmenter: string | null;
  models: ModelRef[];
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** What the backends report about themselves once loaded (names and verified model hashes). */
export interface BackendInfo {
  localizer: string;
  segmenter: string;
  models: ModelRef[];
  /** Why these were chosen (e.g. which model file failed verification), for the log. */
  notes?: string[];
}

/** The work of one item, before it is committed: everything the results store needs. */
export interface ItemOutput {
  backends: BackendInfo;
  mode: Mode;
  localized: LocalizedStructure[];
  segmented: SegmentedStructure[];
  /** Template members (series UIDs) each structure was derived from, for the audit trail. */
  templates: Record<string, string[]>;
}

/** What a worker (or the inline executor) is asked to do. */
export interface ItemTask {
  runId: number;
  itemId: number;
  seriesUid: string;
  templateSet: string;
  mode: Mode;
}

export interface ItemProgress {
  done: number;
  total: number;
  message?: string;
}

export type ItemOutcome =
  | { status: 'done'; structures: number }
  | { status: 'failed'; error: ErrorPayload }
  /** Stopped by cancel: the item went back to pending, nothing was committed. */
  | { status: 'cancelled' };

/** Events of a run, in order; the service layer forwards them as api events, the CLI draws a bar. */
export type RunEvent =
  | { type: 'run-started'; runId: number; templateSet: string; total: number; done: number; failed: number; resumed: boolean }
  | { type: 'backends'; runId: number; backends: BackendInfo }
  | { type: 'item-started'; runId: number; itemId: number; seriesUid: string }
  | { type: 'item-progress'; runId: number; itemId: number; seriesUid: string; progress: ItemProgress }
  | { type: 'item-finished'; runId: number; itemId: number; seriesUid: string; outcome: ItemOutcome; durationMs: number }
  | { type: 'run-progress'; runId: number; total: number; done: number; failed: number; running: number; etaMs: number | null }
  | { type: 'run-finished'; runId: number; status: RunStatus; total: number; done: number; failed: number };
