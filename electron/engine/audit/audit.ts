/**
 * The audit trail (table `audit`, migration 5): who or what created, edited, approved, rejected and
 * exported each structure of a series, when, with which backends, model hashes and templates. It is
 * append-only and hash-chained (chain.ts; `delineate audit verify` names an entry changed behind the
 * application's back); writers call these functions inside the transaction that makes the change itself,
 * so an entry exists exactly when the change does (a killed batch leaves neither).
 */
import type { Db } from '../store/db.js';
import { InputError, NotFoundError } from '../errors.js';
import type { ModelRef } from '../localize/localizer.js';
import { getResult, setReviewState, type ReviewState } from '../store/results.js';
import { auditEntryHash, GENESIS_HASH, type AuditChainRow } from './chain.js';

export type AuditAction = 'created' | 'edited' | 'approved' | 'rejected' | 'reset' | 'exported';
export type ActorKind = 'user' | 'algorithm';

/** The actor name recorded for work done by the application itself. */
export const ALGORITHM_ACTOR = 'delineate';

export interface AuditEntryInput {
  actor: string;
  actorKind: ActorKind;
  action: AuditAction;
  seriesUid: string;
  templateSet?: string;
  structure?: string;
  runId?: number;
  localizer?: string;
  segmenter?: string;
  models?: ModelRef[];
  /** Series UIDs of the template members used. */
  templates?: string[];
  detail?: Record<string, unknown>;
}

export interface AuditEntry extends Required<Omit<AuditEntryInput, 'runId'>> {
  id: number;
  at: string;
  runId: number | null;
}

const ACTIONS: readonly AuditAction[] = ['created', 'edited', 'approved', 'rejected', 'reset', 'exported'];

export function recordAudit(db: Db, e: AuditEntryInput): number {
  if (!ACTIONS.includes(e.action)) throw new InputError(`unknown audit action '${e.action}'`);
  if (e.actor.trim() === '') throw new InputError(`an audit entry needs an actor (${e.action} of ${e.structure ?? 'series'} on ${e.seriesUid})`, { seriesUid: e.seriesUid });
  const write = (): number => {
    // The chain (chain.ts): read the newest entry and append after it within one write
    // transaction, so two processes can never chain to the same predecessor.
    const last = db.prepare('SELECT * FROM audit ORDER BY id DESC LIMIT 1').get() as (AuditChainRow & { hash: string | null }) | undefined;
    const row: AuditChainRow = {
      id: (last?.id ?? 0) + 1,
      at: new Date().toISOString(),
      actor: e.actor.trim(),
      actor_kind: e.actorKind,
      action: e.action,
      series_uid: e.seriesUid,
      template_set: e.templateSet ?? '',
      structure: e.structure ?? '',
      run_id: e.runId ?? null,
      localizer: e.localizer ?? '',
      segmenter: e.segmenter ?? '',
      models_json: JSON.stringify(e.models ?? []),
      templates_json: JSON.stringify(e.templates ?? []),
      detail_json: JSON.stringify(e.detail ?? {}),
    };
    // A predecessor without a hash (written outside Delineate) is chained to by the hash of its
    // content as it stands, so writing goes on; verify still names it.
    const prevHash = last === undefined ? GENESIS_HASH : (last.hash ?? auditEntryHash('', last));
    db.prepare(
      `INSERT INTO audit (id, at, actor, actor_kind, action, series_uid, template_set, structure, run_id, localizer, segmenter,
         models_json, templates_json, detail_json, prev_hash, hash)
       VALUES (@id, @at, @actor, @actor_kind, @action, @series_uid, @template_set, @structure, @run_id, @localizer, @segmenter,
         @models_json, @templates_json, @detail_json, @prev_hash, @hash)`,
    ).run({ ...row, prev_hash: prevHash, hash: auditEntryHash(prevHash, row) });
    return row.id;
  };
  return db.inTransaction ? write() : db.transaction(write).immediate();
}

/** A stored entry: the hashed content plus its chain link. */
type Row = AuditChainRow & { prev_hash: string | null; hash: string | null };

function fromRow(r: Row): AuditEntry {
  return {
    id: r.id,
    at: r.at,
    actor: r.actor,
    actorKind: r.actor_kind as ActorKind,
    action: r.action as AuditAction,
    seriesUid: r.series_uid,
    templateSet: r.template_set,
    structure: r.structure,
    runId: r.run_id,
    localizer: r.localizer,
    segmenter: r.segmenter,
    models: JSON.parse(r.models_json) as ModelRef[],
    templates: JSON.parse(r.templates_json) as string[],
    detail: JSON.parse(r.detail_json) as Record<string, unknown>,
  };
}

/** The history of a series (optionally one set and structure), oldest first. */
export function auditTrail(db: Db, q: { seriesUid: string; templateSet?: string; structure?: string }): AuditEntry[] {
  const where = ['series_uid = ?'];
  const args: string[] = [q.seriesUid];
  if (q.templateSet !== undefined) {
    where.push('template_set = ?');
    args.push(q.templateSet);
  }
  if (q.structure !== undefined) {
    where.push('structure = ?');
    args.push(q.structure);
  }
  return (db.prepare(`SELECT * FROM audit WHERE ${where.join(' AND ')} ORDER BY id`).all(...args) as Row[]).map(fromRow);
}

export interface ReviewRequest {
  seriesUid: string;
  templateSet?: string;
  structure: string;
  state: ReviewState;
  reviewer: string;
  comment?: string;
}

/**
 * Approves, rejects or resets one structure's result and records it, in one transaction. Without
 * `templateSet` the structure must be unambiguous on the series (one set holds it).
 */
export function reviewStructure(db: Db, req: ReviewRequest): { resultId: number; templateSet: string } {
  if (req.reviewer.trim() === '') throw new InputError(`a review of ${req.structure} on series ${req.seriesUid} needs a reviewer name`, { seriesUid: req.seriesUid, structure: req.structure });
  const rows = db
    .prepare(
      `SELECT r.id, s.name AS set_name FROM results r JOIN template_sets s ON s.id = r.set_id
       WHERE r.series_uid = ? AND r.structure = ? ${req.templateSet !== undefined ? 'AND s.name = ?' : ''}`,
    )
    .all(...[req.seriesUid, req.structure, ...(req.templateSet !== undefined ? [req.templateSet] : [])]) as { id: number; set_name: string }[];
  const ctx = { seriesUid: req.seriesUid, structure: req.structure, templateSet: req.templateSet };
  if (rows.length === 0) throw new NotFoundError(`series ${req.seriesUid} has no result for structure ${req.structure}`, ctx);
  if (rows.length > 1) {
    throw new InputError(`structure ${req.structure} on series ${req.seriesUid} has results in several template sets (${rows.map((r) => r.set_name).join(', ')}); name one`, ctx);
  }
  const row = rows[0]!;
  const action: AuditAction = req.state === 'approved' ? 'approved' : req.state === 'rejected' ? 'rejected' : 'reset';
  db.transaction(() => {
    setReviewState(db, row.id, req.state, req.reviewer.trim());
    const r = getResult(db, row.id);
    recordAudit(db, {
      actor: req.reviewer,
      actorKind: 'user',
      action,
      seriesUid: req.seriesUid,
      templateSet: row.set_name,
      structure: req.structure,
      localizer: r.localizer ?? '',
      segmenter: r.segmenter ?? '',
      models: r.models,
      detail: req.comment ? { comment: req.comment } : {},
    });
  }).immediate();
  return { resultId: row.id, templateSet: row.set_name };
}

/**
 * The same decision for one structure on many series (batch approve in the review screen): all or
 * nothing, so a missing result on one series leaves every other series as it was.
 */
export function reviewStructures(db: Db, reqs: ReviewRequest[]): { seriesUid: string; resultId: number; templateSet: string }[] {
  return db.transaction(() => reqs.map((r) => ({ seriesUid: r.seriesUid, ...reviewStructure(db, r) }))).immediate();
}

/** Records that a structure left the application (RTSTRUCT file, C-STORE, label map). */
export function auditExport(
  db: Db,
  e: { actor: string; seriesUid: string; templateSet?: string; structures: string[]; target: string; sopInstanceUid?: string },
): void {
  db.transaction(() => {
    for (const structure of e.structures) {
      recordAudit(db, {
        actor: e.actor,
        actorKind: 'user',
        action: 'exported',
        seriesUid: e.seriesUid,
        ...(e.templateSet !== undefined ? { templateSet: e.templateSet } : {}),
        structure,
        detail: { target: e.target, ...(e.sopInstanceUid ? { sopInstanceUid: e.sopInstanceUid } : {}) },
      });
    }
    // IMMEDIATE: the chain reads the newest entry before appending; a deferred transaction would
    // fail with SQLITE_BUSY_SNAPSHOT when another process appended in between.
  }).immediate();
}
