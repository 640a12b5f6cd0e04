import type { Migration } from './types.js';
import { auditEntryHash, GENESIS_HASH, type AuditChainRow } from '../../audit/chain.js';

/**
 * The audit trail becomes tamper-evident (engine/audit/chain.ts): each entry stores the hash of its
 * canonical content and of the previous entry's hash. Existing entries are chained in id order, as
 * they stand at the time of the upgrade (what was changed before it cannot be detected).
 *
 * The unique index on prev_hash keeps the chain linear: a second entry chaining to the same
 * predecessor (two writers racing, or a forged insertion) is refused by SQLite itself.
 */
export const m009AuditChain: Migration = {
  version: 9,
  name: 'audit-chain',
  up(db) {
    db.exec(`
      ALTER TABLE audit ADD COLUMN prev_hash TEXT;   -- hash of the previous entry (${GENESIS_HASH.slice(0, 8)}... for the first)
      ALTER TABLE audit ADD COLUMN hash TEXT;        -- sha256(prev_hash, canonical content): chain.ts
      CREATE UNIQUE INDEX audit_chain ON audit(prev_hash);
    `);
    const update = db.prepare('UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?');
    let prev = GENESIS_HASH;
    for (const r of db.prepare('SELECT * FROM audit ORDER BY id').all() as AuditChainRow[]) {
      const hash = auditEntryHash(prev, r);
      update.run(prev, hash, r.id);
      prev = hash;
    }
  },
};
