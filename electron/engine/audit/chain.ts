/**
 * The audit trail's hash chain: every entry stores the SHA-256 of its own canonical content and of
 * the previous entry's hash, so an entry edited, deleted or inserted out of order with plain SQL
 * breaks the chain at that point and `verifyAuditChain` names it.
 *
 * The canonical form below is frozen: entries written by every earlier version are verified with
 * it, so a change needs a new chain version, never an edit. It is a JSON array of the columns in a
 * fixed order (strings, integers and null only, so JSON.stringify is unambiguous), with the row id
 * included so that renumbering an entry also breaks it.
 *
 * What it does not prove: somebody who can write the database and knows this scheme can recompute
 * every hash after a change, and removing the newest entries leaves a valid shorter chain. The head
 * hash that `verify` reports can be written down (or printed in a physicist's records) to anchor it.
 */
import { createHash } from 'node:crypto';
import type { Db } from '../store/db.js';

/** The `prev_hash` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** The columns that make up an entry's content, in the order they are hashed. */
export interface AuditChainRow {
  id: number;
  at: string;
  actor: string;
  actor_kind: string;
  action: string;
  series_uid: string;
  template_set: string;
  structure: string;
  run_id: number | null;
  localizer: string;
  segmenter: string;
  models_json: string;
  templates_json: string;
  detail_json: string;
}

export function auditEntryHash(prevHash: string, r: AuditChainRow): string {
  const content = JSON.stringify([
    r.id, r.at, r.actor, r.actor_kind, r.action, r.series_uid, r.template_set, r.structure, r.run_id,
    r.localizer, r.segmenter, r.models_json, r.templates_json, r.detail_json,
  ]);
  return createHash('sha256').update(`${prevHash}\n${content}`).digest('hex');
}

export type AuditBreak =
  | 'edited' // the entry's content (or id) no longer matches its hash, or it was rewritten with a new hash
  | 'deleted' // an entry before this one is missing: this one chains to a hash no stored entry has
  | 'inserted'; // written outside the chain: no hash, or it chains to something other than its predecessor

export interface AuditVerification {
  ok: boolean;
  entries: number;
  /** The hash of the newest entry (GENESIS_HASH when empty): write it down to anchor the chain. */
  head: string;
  firstBroken?: { id: number; reason: AuditBreak; message: string };
}

interface StoredRow extends AuditChainRow {
  prev_hash: string | null;
  hash: string | null;
}

function describe(r: AuditChainRow): string {
  return `${r.action} of ${r.structure || 'the series'} on ${r.series_uid} by ${r.actor} at ${r.at}`;
}

/**
 * Walks the whole trail in id order and reports the first entry where the chain breaks. Ids are
 * assigned as the previous id + 1 by `recordAudit`, so a gap in ids means a deletion.
 */
export function verifyAuditChain(db: Db): AuditVerification {
  const total = Number(db.prepare('SELECT count(*) FROM audit').pluck().get());
  // Hashes some entry chains to: when an entry does not follow its predecessor but a later entry
  // does, the entry in between was inserted.
  const chainedTo = new Set(db.prepare('SELECT prev_hash FROM audit WHERE prev_hash IS NOT NULL').pluck().all() as string[]);
  const seen = new Set<string>();
  let prev = GENESIS_HASH;
  let prevRow: AuditChainRow | undefined;
  const broken = (id: number, reason: AuditBreak, message: string): AuditVerification => ({ ok: false, entries: total, head: prev, firstBroken: { id, reason, message } });
  for (const r of db.prepare('SELECT * FROM audit ORDER BY id').iterate() as IterableIterator<StoredRow>) {
    if (r.hash === null || r.prev_hash === null) {
      return broken(r.id, 'inserted', `audit entry ${r.id} (${describe(r)}) has no hash: it was written outside Delineate`);
    }
    if (auditEntryHash(r.prev_hash, r) !== r.hash) {
      return broken(r.id, 'edited', `audit entry ${r.id} (${describe(r)}) does not match its hash: it was changed after it was written`);
    }
    if (r.prev_hash !== prev) {
      if (seen.has(r.prev_hash) || r.prev_hash === GENESIS_HASH || chainedTo.has(prev)) {
        return broken(r.id, 'inserted', `audit entry ${r.id} (${describe(r)}) was inserted out of order: it does not chain to entry ${prevRow?.id ?? '(start)'}`);
      }
      if (prevRow !== undefined && prevRow.id + 1 === r.id) {
        // No gap, and nobody chains to the predecessor: it was rewritten together with its hash.
        return broken(prevRow.id, 'edited', `audit entry ${prevRow.id} (${describe(prevRow)}) was rewritten after it was written: entry ${r.id} chains to its original hash`);
      }
      return broken(r.id, 'deleted', `the audit entry before ${r.id} (${describe(r)}) was deleted: entry ${r.id} chains to a hash no stored entry has`);
    }
    seen.add(r.hash);
    prev = r.hash;
    prevRow = r;
  }
  return { ok: true, entries: total, head: prev };
}
