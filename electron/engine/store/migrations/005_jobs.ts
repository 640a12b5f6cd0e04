import type { Migration } from './types.js';

/**
 * Batch runs and the audit trail (DESIGN.md "Persistence"; engine/jobs, engine/audit).
 *
 * A run is one template set over a fixed list of series; its items are written before any work
 * starts so that a killed process can resume from the database alone. An item is `pending`, then
 * `running` while a worker holds it, then `done` (its results committed in the same transaction as
 * this status) or `failed` (with its error). A resumed run puts `running` items back to `pending`:
 * their results were never committed, so nothing is lost and nothing is stored twice.
 *
 * The audit table is append-only and keeps no foreign keys, so that the history of a structure
 * outlives the result row, the run or the series it describes.
 */
export const m005Jobs: Migration = {
  version: 5,
  name: 'runs-and-audit',
  up(db) {
    db.exec(`
      CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        set_id INTEGER NOT NULL REFERENCES template_sets(id) ON DELETE CASCADE,
        selection TEXT NOT NULL,                    -- 'all', or the sorted series UIDs joined by newlines
        mode TEXT NOT NULL DEFAULT 'wpl',           -- wpl | spl
        status TEXT NOT NULL DEFAULT 'pending',     -- pending | running | cancelled | done
        localizer TEXT,                             -- backend names and model hashes, as the workers reported them
        segmenter TEXT,
        models_json TEXT NOT NULL DEFAULT '[]',     -- [{name, sha256}]
        lease_owner TEXT,                           -- 'host:pid:token' of the process working on it
        lease_heartbeat_ms INTEGER,
        created_by TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        started_at TEXT,
        finished_at TEXT
      );
      CREATE INDEX runs_lookup ON runs(set_id, selection, mode);
      CREATE TABLE run_items (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        series_uid TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',     -- pending | running | done | failed
        attempts INTEGER NOT NULL DEFAULT 0,
        error_json TEXT,                            -- {name, code, message, context} when failed
        backends_json TEXT,                         -- {localizer, segmenter, models} that produced the results
        structures INTEGER,                         -- structures committed
        started_at TEXT,
        finished_at TEXT,
        duration_ms INTEGER,
        UNIQUE (run_id, series_uid),
        UNIQUE (run_id, position)
      );
      CREATE INDEX run_items_status ON run_items(run_id, status, position);
      CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        actor TEXT NOT NULL,                        -- a person's name, or 'delineate' for the algorithm
        actor_kind TEXT NOT NULL,                   -- user | algorithm
        action TEXT NOT NULL,                       -- created | edited | approved | rejected | reset | exported
        series_uid TEXT NOT NULL,
        template_set TEXT NOT NULL DEFAULT '',
        structure TEXT NOT NULL DEFAULT '',
        run_id INTEGER,
        localizer TEXT NOT NULL DEFAULT '',
        segmenter TEXT NOT NULL DEFAULT '',
        models_json TEXT NOT NULL DEFAULT '[]',     -- [{name, sha256}]
        templates_json TEXT NOT NULL DEFAULT '[]',  -- template member series UIDs used for this structure
        detail_json TEXT NOT NULL DEFAULT '{}'      -- action-specific: export target, edit, reason
      );
      CREATE INDEX audit_structure ON audit(series_uid, template_set, structure, id);
    `);
  },
};
