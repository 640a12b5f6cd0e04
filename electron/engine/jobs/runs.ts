/**
 * The persistent queue (tables `runs` and `run_items`, migration 5). A run and all of its items are
 * written in one transaction before any work starts; workers claim items one at a time; a process
 * that dies leaves its claimed items `running`, and whoever resumes the run (after taking its lease)
 * puts them back to `pending`. Results are committed by commit.ts in the same transaction as the
 * item's `done`, so a resumed item never leaves a second copy.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Db } from '../store/db.js';
import { DelineateError, InputError, NotFoundError, type ErrorPayload } from '../errors.js';
import type { ModelRef } from '../localize/localizer.js';
import type { BackendInfo, ItemStatus, Mode, RunInfo, RunItem, RunStatus } from './types.js';

/** A lease not refreshed for this long is considered abandoned (another machine, a hung process). */
export const LEASE_STALE_MS = 120_000;

export interface RunRequest {
  templateSet: string;
  /** The series to process, or 'all' (every CT series of the archive that is not a template of the set). */
  series: string[] | 'all';
  mode?: Mode;
  /** Start a new run even when a finished or interrupted run of the same set and series exists. */
  fresh?: boolean;
  createdBy?: string;
}

interface RunRow {
  id: number;
  set_name: string;
  selection: string;
  mode: string;
  status: string;
  localizer: string | null;
  segmenter: string | null;
  models_json: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

const RUN_SELECT = `SELECT r.id, s.name AS set_name, r.selection, r.mode, r.status, r.localizer, r.segmenter, r.models_json,
  r.created_at, r.started_at, r.finished_at FROM runs r JOIN template_sets s ON s.id = r.set_id`;

function runFromRow(r: RunRow): RunInfo {
  return {
    id: r.id,
    templateSet: r.set_name,
    selection: r.selection,
    mode: r.mode === 'spl' ? 'spl' : 'wpl',
    status: r.status as RunStatus,
    localizer: r.localizer,
    segmenter: r.segmenter,
    models: JSON.parse(r.models_json) as ModelRef[],
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

interface ItemRow {
  id: number;
  run_id: number;
  position: number;
  series_uid: string;
  status: string;
  attempts: number;
  error_json: string | null;
  duration_ms: number | null;
}

function itemFromRow(r: ItemRow): RunItem {
  return {
    id: r.id,
    runId: r.run_id,
    position: r.position,
    seriesUid: r.series_uid,
    status: r.status as ItemStatus,
    attempts: r.attempts,
    error: r.error_json ? (JSON.parse(r.error_json) as ErrorPayload) : null,
    durationMs: r.duration_ms,
  };
}

function setIdOf(db: Db, name: string): number {
  const row = db.prepare('SELECT id FROM template_sets WHERE name = ?').get(name) as { id: number } | undefined;
  if (!row) throw new NotFoundError(`template set '${name}' does not exist`, { templateSet: name });
  return row.id;
}

/** The series a request names, checked against the archive, in a stable order. */
function addNewSeries(db: Db, runId: number, series: string[]): void {
  const have = new Set((db.prepare(`SELECT series_uid FROM run_items WHERE run_id = ?`).all(runId) as { series_uid: string }[]).map((r) => r.series_uid));
  const next = (db.prepare(`SELECT coalesce(max(position), -1) + 1 AS p FROM run_items WHERE run_id = ?`).get(runId) as { p: number }).p;
  const ins = db.prepare(`INSERT INTO run_items (run_id, position, series_uid) VALUES (?, ?, ?)`);
  series.filter((uid) => !have.has(uid)).forEach((uid, i) => ins.run(runId, next + i, uid));
}

export function resolveSeries(db: Db, setId: number, series: string[] | 'all', templateSet: string, opts: { allowEmpty?: boolean } = {}): string[] {
  if (series === 'all') {
    // Every CT series except the set's own template scans (localizing a template on itself says nothing).
    const rows = db
      .prepare(
        `SELECT series_uid FROM series WHERE modality = 'CT'
           AND series_uid NOT IN (SELECT series_uid FROM template_members WHERE set_id = ?)
         ORDER BY series_uid`,
      )
      .all(setId) as { series_uid: string }[];
    if (rows.length === 0 && !opts.allowEmpty) throw new InputError(`no CT series to process for template set '${templateSet}' (the archive holds none besides its templates)`, { templateSet });
    return rows.map((r) => r.series_uid);
  }
  const unique = [...new Set(series)];
  if (unique.length === 0) throw new InputError('no series given: name at least one series or use --all');
  const known = db.prepare('SELECT modality FROM series WHERE series_uid = ?');
  for (const uid of unique) {
    const row = known.get(uid) as { modality: string } | undefined;
    if (!row) throw new NotFoundError(`series ${uid} is not in the archive; import it first`, { seriesUid: uid });
  }
  return unique;
}

function selectionKey(series: string[] | 'all'): string {
  return series === 'all' ? 'all' : [...new Set(series)].sort().join('\n');
}

/**
 * Finds the unfinished run of the same set, series and mode (or, unless `fresh`, the finished one:
 * re-running a finished command must not silently overwrite reviewed results), else creates a run
 * and its items in one transaction. Returns the run and whether it already existed.
 */
export function createOrFindRun(db: Db, req: RunRequest): { run: RunInfo; resumed: boolean } {
  if (!db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'run_items'`).get()) {
    // Said plainly rather than as SQLite's "no such table" deep inside a batch.
    throw new DelineateError('internal', `database ${db.name} has no batch tables (schema migration 5: runs, run_items, audit)`, { file: db.name });
  }
  const setId = setIdOf(db, req.templateSet);
  const mode = req.mode ?? 'wpl';
  const key = selectionKey(req.series);
  return db.transaction(() => {
    if (!req.fresh) {
      const existing = db
        .prepare(`SELECT id FROM runs WHERE set_id = ? AND selection = ? AND mode = ? ORDER BY id DESC LIMIT 1`)
        .get(setId, key, mode) as { id: number } | undefined;
      if (existing) {
        // `--all` means the archive as it is now: series imported since join the run as new items
        // (a nightly `run --all` processes what arrived, never redoing what is done or reviewed).
        if (key === 'all') addNewSeries(db, existing.id, resolveSeries(db, setId, 'all', req.templateSet, { allowEmpty: true }));
        return { run: getRun(db, existing.id), resumed: true };
      }
    }
    const series = resolveSeries(db, setId, req.series, req.templateSet);
    const runId = Number(
      db.prepare(`INSERT INTO runs (set_id, selection, mode, created_by) VALUES (?, ?, ?, ?)`).run(setId, key, mode, req.createdBy ?? '').lastInsertRowid,
    );
    const ins = db.prepare(`INSERT INTO run_items (run_id, position, series_uid) VALUES (?, ?, ?)`);
    series.forEach((uid, i) => ins.run(runId, i, uid));
    return { run: getRun(db, runId), resumed: false };
  }).immediate();
}

export function getRun(db: Db, runId: number): RunInfo {
  const row = db.prepare(`${RUN_SELECT} WHERE r.id = ?`).get(runId) as RunRow | undefined;
  if (!row) throw new NotFoundError(`run ${runId} does not exist`);
  return runFromRow(row);
}

export function listRuns(db: Db): RunInfo[] {
  return (db.prepare(`${RUN_SELECT} ORDER BY r.id DESC`).all() as RunRow[]).map(runFromRow);
}

export function listItems(db: Db, runId: number): RunItem[] {
  const rows = db
    .prepare(`SELECT id, run_id, position, series_uid, status, attempts, error_json, duration_ms FROM run_items WHERE run_id = ? ORDER BY position`)
    .all(runId) as ItemRow[];
  return rows.map(itemFromRow);
}

export function itemCounts(db: Db, runId: number): Record<ItemStatus, number> & { total: number } {
  const counts = { pending: 0, running: 0, done: 0, failed: 0, total: 0 };
  for (const r of db.prepare(`SELECT status, count(*) AS n FROM run_items WHERE run_id = ? GROUP BY status`).all(runId) as { status: ItemStatus; n: number }[]) {
    counts[r.status] = r.n;
    counts.total += r.n;
  }
  return counts;
}

// ---- lease: one process works on a run at a time ----

export function newLeaseOwner(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

function ownerAlive(owner: string, heartbeatMs: number | null, now: number): boolean {
  const [host, pidText] = owner.split(':');
  if (heartbeatMs === null || now - heartbeatMs > LEASE_STALE_MS) return false;
  if (host !== hostname()) return true;
  const pid = Number(pidText);
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0); // signal 0 only checks that the process exists
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the run for this process. A lease held by a live process is refused with its owner named; a
 * dead owner's (killed, crashed) is taken over, and its `running` items go back to `pending` in the
 * same transaction (their results were never committed). With `retryFailed`, failed items too.
 */
export function acquireRun(db: Db, runId: number, owner: string, opts: { retryFailed?: boolean } = {}): void {
  db.transaction(() => {
    const row = db.prepare(`SELECT lease_owner, lease_heartbeat_ms FROM runs WHERE id = ?`).get(runId) as
      | { lease_owner: string | null; lease_heartbeat_ms: number | null }
      | undefined;
    if (!row) throw new NotFoundError(`run ${runId} does not exist`);
    const now = Date.now();
    if (row.lease_owner && row.lease_owner !== owner && ownerAlive(row.lease_owner, row.lease_heartbeat_ms, now)) {
      throw new DelineateError('conflict', `run ${runId} is being processed by another process (${row.lease_owner}); wait for it or stop it first`, {});
    }
    db.prepare(`UPDATE run_items SET status = 'pending' WHERE run_id = ? AND status = 'running'`).run(runId);
    if (opts.retryFailed) {
      db.prepare(`UPDATE run_items SET status = 'pending', error_json = NULL WHERE run_id = ? AND status = 'failed'`).run(runId);
    }
    db.prepare(
      `UPDATE runs SET lease_owner = ?, lease_heartbeat_ms = ?, status = 'running', finished_at = NULL,
         started_at = coalesce(started_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) WHERE id = ?`,
    ).run(owner, now, runId);
  }).immediate();
}

export function heartbeat(db: Db, runId: number, owner: string): void {
  db.prepare(`UPDATE runs SET lease_heartbeat_ms = ? WHERE id = ? AND lease_owner = ?`).run(Date.now(), runId, owner);
}

/** Ends this process's hold on the run with its final status. */
export function releaseRun(db: Db, runId: number, owner: string, status: RunStatus): void {
  db.prepare(
    `UPDATE runs SET lease_owner = NULL, lease_heartbeat_ms = NULL, status = ?,
       finished_at = CASE WHEN ? = 'done' THEN strftime('%Y-%m-%dT%H:%M:%fZ', 'now') ELSE finished_at END
     WHERE id = ? AND lease_owner = ?`,
  ).run(status, status, runId, owner);
}

/** Claims the next pending item (lowest position) for a worker, or undefined when none is left. */
export function claimNextItem(db: Db, runId: number): RunItem | undefined {
  const row = db
    .prepare(
      `UPDATE run_items SET status = 'running', attempts = attempts + 1, started_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
         error_json = NULL
       WHERE id = (SELECT id FROM run_items WHERE run_id = ? AND status = 'pending' ORDER BY position LIMIT 1)
       RETURNING id, run_id, position, series_uid, status, attempts, error_json, duration_ms`,
    )
    .get(runId) as ItemRow | undefined;
  return row ? itemFromRow(row) : undefined;
}

/** Puts a claimed item back (cancelled before its results were committed). */
export function releaseItem(db: Db, itemId: number): void {
  db.prepare(`UPDATE run_items SET status = 'pending' WHERE id = ? AND status = 'running'`).run(itemId);
}

/** Records the backends a worker loaded; the run keeps the union of model references it used. */
export function recordBackends(db: Db, runId: number, b: BackendInfo): void {
  db.transaction(() => {
    const row = db.prepare(`SELECT models_json FROM runs WHERE id = ?`).get(runId) as { models_json: string } | undefined;
    if (!row) throw new NotFoundError(`run ${runId} does not exist`);
    const seen = new Map((JSON.parse(row.models_json) as ModelRef[]).map((m) => [`${m.name}:${m.sha256}`, m]));
    for (const m of b.models) seen.set(`${m.name}:${m.sha256}`, m);
    db.prepare(`UPDATE runs SET localizer = ?, segmenter = ?, models_json = ? WHERE id = ?`).run(
      b.localizer,
      b.segmenter,
      JSON.stringify([...seen.values()]),
      runId,
    );
  }).immediate();
}
