import type { Migration } from './types.js';

/**
 * Structure catalogue, template sets and their members, and per-series results (boxes from a
 * localizer, masks from a segmenter, review state). Points are JSON arrays of LPS mm.
 */
export const m002Templates: Migration = {
  version: 2,
  name: 'templates-and-results',
  up(db) {
    db.exec(`
      CREATE TABLE structures (
        name TEXT PRIMARY KEY,                      -- TG-263 name, at most 16 characters
        color TEXT NOT NULL DEFAULT '#ff0000',      -- #rrggbb
        interpreted_type TEXT NOT NULL DEFAULT 'ORGAN',
        description TEXT NOT NULL DEFAULT ''
      );
      CREATE TABLE template_sets (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        site TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      );
      CREATE TABLE template_members (
        id INTEGER PRIMARY KEY,
        set_id INTEGER NOT NULL REFERENCES template_sets(id) ON DELETE CASCADE,
        structure TEXT NOT NULL REFERENCES structures(name),
        series_uid TEXT NOT NULL REFERENCES series(series_uid),
        points_json TEXT NOT NULL,                  -- six [x,y,z] LPS mm: min/max along each volume axis
        source TEXT NOT NULL DEFAULT 'clicked',     -- clicked | rtstruct | labels
        source_ref TEXT NOT NULL DEFAULT '',        -- file or SOP Instance UID it was derived from
        label_mask BLOB,                            -- optional contours as a mask (gzip, series grid) for atlas backends
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        UNIQUE (set_id, structure, series_uid)
      );
      CREATE TABLE results (
        id INTEGER PRIMARY KEY,
        series_uid TEXT NOT NULL REFERENCES series(series_uid) ON DELETE CASCADE,
        set_id INTEGER NOT NULL REFERENCES template_sets(id) ON DELETE CASCADE,
        structure TEXT NOT NULL REFERENCES structures(name),
        localizer TEXT,                             -- backend name (medlam, atlas, ...)
        segmenter TEXT,
        mode TEXT,                                  -- wpl | spl
        boxes_json TEXT,                            -- [{min:[x,y,z], max:[x,y,z]}] LPS mm
        extreme_points_json TEXT,                   -- six LPS points (or n*6 for SPL)
        confidence REAL,
        flags_json TEXT NOT NULL DEFAULT '[]',
        mask BLOB,                                  -- gzip of a Uint8Array on the series grid
        voxels INTEGER,
        volume_cc REAL,
        models_json TEXT NOT NULL DEFAULT '[]',     -- [{name, sha256}]
        review_state TEXT NOT NULL DEFAULT 'pending', -- pending | approved | rejected
        reviewer TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        UNIQUE (series_uid, set_id, structure)
      );
    `);
  },
};
