import type { Migration } from './types.js';

/**
 * Cached MedLAM support features (mean fc_position and the summed centre-crop kernels per scale)
 * per (template set, structure, model hash, mode), so that a query never re-runs the network on the
 * templates (DESIGN.md MedLAM step 5). templates_hash covers the members (series and points) and the
 * method constants: a changed template invalidates the row. `data` is localize/support.ts's
 * encodeSupport form.
 */
export const m003SupportCache: Migration = {
  version: 3,
  name: 'support-cache',
  up(db) {
    db.exec(`
      CREATE TABLE support_features (
        set_id INTEGER NOT NULL REFERENCES template_sets(id) ON DELETE CASCADE,
        structure TEXT NOT NULL,
        model_sha256 TEXT NOT NULL,
        mode TEXT NOT NULL,                         -- wpl | spl
        templates_hash TEXT NOT NULL,
        data BLOB NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        PRIMARY KEY (set_id, structure, model_sha256, mode)
      );
    `);
  },
};
