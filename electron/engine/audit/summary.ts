/**
 * One-line summaries of a structure's audit trail for the RTSTRUCT writer:
 * - `auditSummary` for ROI Description (3006,0028), VR ST: at most 1024 characters (PS3.5 6.2);
 * - `generationDescription` for ROI Generation Description (3006,0038), VR LO: at most 64 characters.
 * Both use only the default character repertoire minus backslash (PS3.5 6.1.2: the backslash is the
 * value delimiter in LO and would split the value), so a TPS shows them verbatim.
 */
import type { Db } from '../store/db.js';
import { auditTrail, type AuditEntry } from './audit.js';

const ST_MAX = 1024;
const LO_MAX = 64;

function clean(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\\\u0000-\u001f\u007f-\uffff]/g, '?');
}

function shortHash(sha256: string): string {
  return sha256.slice(0, 12);
}

function day(at: string): string {
  // ISO 8601 UTC to the minute: "2026-11-27T20:41Z".
  return at.length >= 16 ? `${at.slice(0, 16)}Z` : at;
}

function lastCreation(trail: AuditEntry[]): AuditEntry | undefined {
  return [...trail].reverse().find((e) => e.action === 'created' || e.action === 'edited');
}

/**
 * "Delineate atlas+atlas; models medlam 1a2b3c4d5e6f, sam-encoder ...; templates HN (3 scans);
 * created 2026-11-27T20:41Z run 4; approved by J. Doe 2026-11-28T08:02Z". Empty when the structure
 * has no history.
 */
export function auditSummary(db: Db, q: { seriesUid: string; templateSet?: string; structure: string }): string {
  const trail = auditTrail(db, q);
  if (trail.length === 0) return '';
  const parts: string[] = [];
  const made = lastCreation(trail);
  if (made) {
    const backends = [made.localizer, made.segmenter].filter((b) => b !== '').join('+');
    parts.push(`Delineate ${backends || 'manual'}`);
    if (made.models.length > 0) parts.push(`models ${made.models.map((m) => `${m.name} ${shortHash(m.sha256)}`).join(', ')}`);
    if (made.templateSet !== '') parts.push(`templates ${made.templateSet} (${made.templates.length} scan${made.templates.length === 1 ? '' : 's'})`);
    const by = made.actorKind === 'user' ? ` by ${made.actor}` : '';
    parts.push(`${made.action}${by} ${day(made.at)}${made.runId !== null ? ` run ${made.runId}` : ''}`);
  }
  const review = [...trail].reverse().find((e) => e.action === 'approved' || e.action === 'rejected' || e.action === 'reset');
  if (review && (!made || review.id > made.id)) parts.push(`${review.action === 'reset' ? 'review reset' : review.action} by ${review.actor} ${day(review.at)}`);
  else parts.push('not reviewed');
  const text = clean(parts.join('; '));
  return text.length <= ST_MAX ? text : `${text.slice(0, ST_MAX - 3)}...`;
}

/** "Delineate medlam+medsam run 4" (LO, 64 characters at most). */
export function generationDescription(db: Db, q: { seriesUid: string; templateSet?: string; structure: string }): string {
  const made = lastCreation(auditTrail(db, q));
  if (!made) return '';
  const backends = [made.localizer, made.segmenter].filter((b) => b !== '').join('+');
  const text = clean(`Delineate ${backends}${made.runId !== null ? ` run ${made.runId}` : ''}`);
  return text.length <= LO_MAX ? text : text.slice(0, LO_MAX);
}
