import type { Migration } from './types.js';

/**
 * Cluster imports (engine/cluster/merge.ts): one row per series whose results a work package
 * brought into this archive, with the shard, the host and the scheduler job that computed them.
 * The primary key makes an import idempotent: importing a package twice adds nothing. Like the
 * audit table it keeps no foreign keys, so that the record outlives a series removed later.
 */
export const m007Cluster: Migration = {
  version: 7,
  name: 'cluster-imports',
  up(db) {
    db.exec(`
      CREATE TABLE cluster_imports (
        package_id TEXT NOT NULL,
        series_uid TEXT NOT NULL,
        template_set TEXT NOT NULL,
        shard INTEGER NOT NULL,
        host TEXT NOT NULL,
        job TEXT NOT NULL DEFAULT '',
        structures INTEGER NOT NULL,
        imported_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        PRIMARY KEY (package_id, series_uid)
      );
    `);
  },
};
