import type { Migration } from './types.js';

/**
 * Mask revisions (DESIGN.md "Second wave": an edit stores a new mask revision, never overwrites).
 *
 * The `results` row keeps the current mask, so every reader (export, eval, labels, the viewer) reads
 * the latest revision without a join; `revision` numbers it (0: never segmented), and
 * `revision_source` / `revision_actor` say who made it ('segmenter' with the backend's name, 'edit'
 * with the reviewer's). Before a mask is replaced or cleared, the superseded one is copied into
 * `result_revisions`, so an edit, a re-run or a re-localization never loses the mask it replaces.
 * Existing masks become revision 1 from the segmenter.
 *
 * Also an index of run items by series: the Studies screen's search (store/search.ts) asks each
 * series for its latest run state, which without it scans every run item per series.
 */
export const m008MaskRevisions: Migration = {
  version: 8,
  name: 'mask-revisions',
  up(db) {
    db.exec(`
      ALTER TABLE results ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE results ADD COLUMN revision_source TEXT NOT NULL DEFAULT '';   -- segmenter | edit
      ALTER TABLE results ADD COLUMN revision_actor TEXT NOT NULL DEFAULT '';    -- backend or reviewer name
      UPDATE results SET revision = 1, revision_source = 'segmenter', revision_actor = coalesce(segmenter, '')
        WHERE mask IS NOT NULL;
      CREATE TABLE result_revisions (
        id INTEGER PRIMARY KEY,
        result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
        revision INTEGER NOT NULL,
        mask BLOB NOT NULL,                         -- gzip of a Uint8Array on the series grid, as results.mask
        voxels INTEGER,
        volume_cc REAL,
        source TEXT NOT NULL,
        actor TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,                   -- when this revision was made
        superseded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        UNIQUE (result_id, revision)
      );
      CREATE INDEX run_items_series ON run_items(series_uid, id);
    `);
  },
};
