/**
 * The node's tables (migration 6): associations, received instances, series completion state and
 * jobs. Small synchronous statements; the receiver calls these before it acknowledges an instance.
 */
import { DelineateError } from '../errors.js';
import type { NodeAssociationInfo } from '../../api.js';
import type { Db } from '../store/db.js';
import type { AssociationOutcome, PeerInfo, StoredInstance } from './scp.js';

export type JobStatus = 'queued' | 'contouring' | 'awaiting-approval' | 'sending' | 'sent' | 'failed';

export interface NodeJob {
  id: number;
  seriesUid: string;
  rule: string;
  templateSet: string;
  destination: string;
  sendMode: 'now' | 'after-approval';
  status: JobStatus;
  runId: number | null;
  rtstructPath: string;
  rtstructSop: string;
  attempts: number;
  nextAttemptMs: number;
  lastError: string;
  createdAt: string;
  updatedAt: string;
  sentAt: string | null;
}

export interface NodeSeries {
  seriesUid: string;
  studyUid: string;
  folder: string;
  callingAe: string;
  address: string;
  firstAt: string;
  lastMs: number;
  instances: number;
  interrupted: boolean;
  status: 'receiving' | 'imported' | 'import-failed';
  rule: string;
  detail: string;
  importedAt: string | null;
}

/** One association as the node records it; the same shape the API reports. */
export type NodeAssociation = NodeAssociationInfo;

export function requireNodeTables(db: Db): void {
  if (!db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'node_jobs'`).get()) {
    throw new DelineateError('conflict', `database ${db.name} has no DICOM node tables (schema migration 'dicom-node' not applied)`, { file: db.name });
  }
}

export function openAssociation(db: Db, peer: PeerInfo): number {
  return Number(db.prepare(`INSERT INTO node_associations (calling_ae, called_ae, address) VALUES (?, ?, ?)`).run(peer.callingAe, peer.calledAe, peer.address).lastInsertRowid);
}

export function recordRejectedAssociation(db: Db, peer: PeerInfo, reason: string): void {
  db.prepare(
    `INSERT INTO node_associations (calling_ae, called_ae, address, outcome, detail, ended_at) VALUES (?, ?, ?, 'rejected', ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`,
  ).run(peer.callingAe, peer.calledAe, peer.address, reason);
}

export function closeAssociation(db: Db, id: number, outcome: AssociationOutcome, counts: { stored: number; refused: number }): void {
  db.prepare(`UPDATE node_associations SET outcome = ?, stored = ?, refused = ?, ended_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?`).run(outcome, counts.stored, counts.refused, id);
}

export function noteRefused(db: Db, id: number, sop: string, reason: string): void {
  db.prepare(`UPDATE node_associations SET detail = substr(detail || CASE WHEN detail = '' THEN '' ELSE '; ' END || ?, 1, 4000) WHERE id = ?`).run(`refused ${sop}: ${reason}`, id);
}

/** One acknowledged instance and its series' arrival time, in one transaction. */
export function recordInstance(db: Db, i: StoredInstance, folder: string, nowMs: number): void {
  db.transaction(() => {
    db.prepare(
      `INSERT INTO node_instances (sop_instance_uid, series_uid, path, association_id) VALUES (?, ?, ?, ?)
       ON CONFLICT (sop_instance_uid) DO UPDATE SET path = excluded.path, association_id = excluded.association_id`,
    ).run(i.sopInstanceUid, i.seriesUid, i.path, i.associationId);
    db.prepare(
      `INSERT INTO node_series (series_uid, study_uid, folder, calling_ae, address, last_ms, instances) VALUES (?, ?, ?, ?, ?, ?, 1)
       ON CONFLICT (series_uid) DO UPDATE SET last_ms = excluded.last_ms, calling_ae = excluded.calling_ae, address = excluded.address,
         instances = (SELECT count(*) FROM node_instances WHERE series_uid = excluded.series_uid), status = 'receiving', interrupted = 0`,
    ).run(i.seriesUid, i.studyUid, folder, i.peer.callingAe, i.peer.address, nowMs);
  })();
}

/** The series an association delivered to: interrupted when it ended without a release. */
export function markSeriesInterrupted(db: Db, associationId: number, interrupted: boolean): void {
  db.prepare(
    `UPDATE node_series SET interrupted = ? WHERE status = 'receiving' AND series_uid IN (SELECT DISTINCT series_uid FROM node_instances WHERE association_id = ?)`,
  ).run(interrupted ? 1 : 0, associationId);
}

interface SeriesRow {
  series_uid: string;
  study_uid: string;
  folder: string;
  calling_ae: string;
  address: string;
  first_at: string;
  last_ms: number;
  instances: number;
  interrupted: number;
  status: NodeSeries['status'];
  rule: string;
  detail: string;
  imported_at: string | null;
}

const seriesFromRow = (r: SeriesRow): NodeSeries => ({
  seriesUid: r.series_uid,
  studyUid: r.study_uid,
  folder: r.folder,
  callingAe: r.calling_ae,
  address: r.address,
  firstAt: r.first_at,
  lastMs: r.last_ms,
  instances: r.instances,
  interrupted: r.interrupted === 1,
  status: r.status,
  rule: r.rule,
  detail: r.detail,
  importedAt: r.imported_at,
});

export function receivingSeries(db: Db): NodeSeries[] {
  return (db.prepare(`SELECT * FROM node_series WHERE status = 'receiving' ORDER BY last_ms`).all() as SeriesRow[]).map(seriesFromRow);
}

export function listNodeSeries(db: Db, limit = 50): NodeSeries[] {
  return (db.prepare(`SELECT * FROM node_series ORDER BY last_ms DESC LIMIT ?`).all(limit) as SeriesRow[]).map(seriesFromRow);
}

export function finishSeries(db: Db, seriesUid: string, status: 'imported' | 'import-failed', rule: string, detail: string): void {
  db.prepare(`UPDATE node_series SET status = ?, rule = ?, detail = ?, imported_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE series_uid = ?`).run(status, rule, detail, seriesUid);
}

export function knownInstancePaths(db: Db): Set<string> {
  return new Set((db.prepare(`SELECT path FROM node_instances`).all() as { path: string }[]).map((r) => r.path));
}

interface JobRow {
  id: number;
  series_uid: string;
  rule: string;
  template_set: string;
  destination: string;
  send_mode: string;
  status: JobStatus;
  run_id: number | null;
  rtstruct_path: string;
  rtstruct_sop: string;
  attempts: number;
  next_attempt_ms: number;
  last_error: string;
  created_at: string;
  updated_at: string;
  sent_at: string | null;
}

const jobFromRow = (r: JobRow): NodeJob => ({
  id: r.id,
  seriesUid: r.series_uid,
  rule: r.rule,
  templateSet: r.template_set,
  destination: r.destination,
  sendMode: r.send_mode === 'after-approval' ? 'after-approval' : 'now',
  status: r.status,
  runId: r.run_id,
  rtstructPath: r.rtstruct_path,
  rtstructSop: r.rtstruct_sop,
  attempts: r.attempts,
  nextAttemptMs: r.next_attempt_ms,
  lastError: r.last_error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  sentAt: r.sent_at,
});

/** One job per series and rule: a series received again is not contoured and sent a second time. */
export function addJob(db: Db, j: { seriesUid: string; rule: string; templateSet: string; destination: string; sendMode: 'now' | 'after-approval' }): boolean {
  return (
    db
      .prepare(`INSERT INTO node_jobs (series_uid, rule, template_set, destination, send_mode) VALUES (?, ?, ?, ?, ?) ON CONFLICT (series_uid, rule) DO NOTHING`)
      .run(j.seriesUid, j.rule, j.templateSet, j.destination, j.sendMode).changes > 0
  );
}

export function listJobs(db: Db, where: 'all' | 'open' | 'failing' = 'all'): NodeJob[] {
  const cond =
    where === 'open' ? `WHERE status NOT IN ('sent', 'failed')` : where === 'failing' ? `WHERE status = 'failed' OR (status = 'sending' AND last_error != '')` : '';
  return (db.prepare(`SELECT * FROM node_jobs ${cond} ORDER BY id`).all() as JobRow[]).map(jobFromRow);
}

export function getJob(db: Db, id: number): NodeJob {
  const r = db.prepare(`SELECT * FROM node_jobs WHERE id = ?`).get(id) as JobRow | undefined;
  if (!r) throw new DelineateError('not-found', `node job ${id} does not exist`);
  return jobFromRow(r);
}

export function updateJob(
  db: Db,
  id: number,
  set: Partial<{ status: JobStatus; runId: number; rtstructPath: string; rtstructSop: string; attempts: number; nextAttemptMs: number; lastError: string; sent: boolean }>,
): void {
  const cols: string[] = [];
  const vals: Array<string | number> = [];
  const add = (c: string, v: string | number | undefined): void => {
    if (v === undefined) return;
    cols.push(`${c} = ?`);
    vals.push(v);
  };
  add('status', set.status);
  add('run_id', set.runId);
  add('rtstruct_path', set.rtstructPath);
  add('rtstruct_sop', set.rtstructSop);
  add('attempts', set.attempts);
  add('next_attempt_ms', set.nextAttemptMs);
  add('last_error', set.lastError);
  if (set.sent) cols.push(`sent_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`);
  cols.push(`updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`);
  db.prepare(`UPDATE node_jobs SET ${cols.join(', ')} WHERE id = ?`).run(...vals, id);
}

export function listAssociations(db: Db, limit = 50): NodeAssociation[] {
  const rows = db.prepare(`SELECT * FROM node_associations ORDER BY id DESC LIMIT ?`).all(limit) as Array<Record<string, string | number | null>>;
  return rows.map((r) => ({
    id: Number(r.id),
    callingAe: String(r.calling_ae),
    calledAe: String(r.called_ae),
    address: String(r.address),
    startedAt: String(r.started_at),
    endedAt: r.ended_at === null ? null : String(r.ended_at),
    outcome: String(r.outcome),
    detail: String(r.detail),
    stored: Number(r.stored),
    refused: Number(r.refused),
  }));
}

/** What checkRulesAgainstArchive looks up. */
export function archiveNames(db: Db): { templateSet(name: string): boolean; destination(name: string): boolean } {
  return {
    templateSet: (name) => db.prepare(`SELECT 1 FROM template_sets WHERE name = ?`).get(name) !== undefined,
    destination: (name) => db.prepare(`SELECT 1 FROM destinations WHERE name = ?`).get(name) !== undefined,
  };
}
