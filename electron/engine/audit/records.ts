/**
 * A series' audit trail as records for a physicist's files: every entry with its chain hashes, in
 * id order, as JSON or CSV (RFC 4180: fields quoted when they hold a comma, quote or line break,
 * quotes doubled; CRLF line ends).
 */
import type { Db } from '../store/db.js';
import { NotFoundError } from '../errors.js';
import { verifyAuditChain, type AuditVerification } from './chain.js';

export interface AuditRecord {
  id: number;
  at: string;
  actor: string;
  actorKind: string;
  action: string;
  seriesUid: string;
  templateSet: string;
  structure: string;
  runId: number | null;
  localizer: string;
  segmenter: string;
  models: string;
  templates: string;
  detail: string;
  prevHash: string | null;
  hash: string | null;
}

export interface AuditRecords {
  seriesUid: string;
  /** The whole trail's verification at the time of the export. */
  verification: AuditVerification;
  entries: AuditRecord[];
}

export function auditRecords(db: Db, seriesUid: string): AuditRecords {
  const entries = db
    .prepare(
      `SELECT id, at, actor, actor_kind AS actorKind, action, series_uid AS seriesUid, template_set AS templateSet, structure,
              run_id AS runId, localizer, segmenter, models_json AS models, templates_json AS templates, detail_json AS detail,
              prev_hash AS prevHash, hash
       FROM audit WHERE series_uid = ? ORDER BY id`,
    )
    .all(seriesUid) as AuditRecord[];
  if (entries.length === 0 && db.prepare('SELECT 1 FROM series WHERE series_uid = ?').get(seriesUid) === undefined) {
    throw new NotFoundError(`series ${seriesUid} is not in the archive and has no audit entries`, { seriesUid });
  }
  return { seriesUid, verification: verifyAuditChain(db), entries };
}

const COLUMNS: (keyof AuditRecord)[] = ['id', 'at', 'actor', 'actorKind', 'action', 'seriesUid', 'templateSet', 'structure', 'runId', 'localizer', 'segmenter', 'models', 'templates', 'detail', 'prevHash', 'hash'];

function csvField(v: string | number | null): string {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function auditRecordsCsv(entries: readonly AuditRecord[]): string {
  return [COLUMNS.join(','), ...entries.map((e) => COLUMNS.map((c) => csvField(e[c])).join(','))].join('\r\n') + '\r\n';
}
