import type { Migration } from './types.js';

/**
 * The DICOM node (engine/node): what it received, from whom, and what it did with it.
 *
 * - node_associations: one row per incoming association (calling AE, address, outcome, counts): the
 *   audit of who sent what. Rejected associations are kept too.
 * - node_instances: every instance acknowledged with a success status, with the file it was written
 *   to (already fsynced and renamed when the row is written). A row lost to a crash is rebuilt from
 *   the incoming folder at the next start.
 * - node_series: series being received and their completion (quiet time) and import state.
 * - node_jobs: the work a rule asked for on a series (contour with a template set, export, send),
 *   one per series and rule, with its send attempts; the contouring itself is a run of the batch
 *   queue (`runs`, migration 5), so a killed node resumes it.
 */
export const m006Node: Migration = {
  version: 6,
  name: 'dicom-node',
  up(db) {
    db.exec(`
      CREATE TABLE node_associations (
        id INTEGER PRIMARY KEY,
        calling_ae TEXT NOT NULL,
        called_ae TEXT NOT NULL,
        address TEXT NOT NULL DEFAULT '',
        started_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        ended_at TEXT,
        outcome TEXT NOT NULL DEFAULT 'open',      -- open | released | aborted | dropped | rejected
        detail TEXT NOT NULL DEFAULT '',
        stored INTEGER NOT NULL DEFAULT 0,
        refused INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE node_instances (
        sop_instance_uid TEXT PRIMARY KEY,
        series_uid TEXT NOT NULL,
        path TEXT NOT NULL,
        association_id INTEGER,
        received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      );
      CREATE INDEX node_instances_series ON node_instances(series_uid);
      CREATE TABLE node_series (
        series_uid TEXT PRIMARY KEY,
        study_uid TEXT NOT NULL DEFAULT '',
        folder TEXT NOT NULL,
        calling_ae TEXT NOT NULL DEFAULT '',
        address TEXT NOT NULL DEFAULT '',
        first_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        last_ms INTEGER NOT NULL,                  -- arrival of the last instance, epoch ms
        instances INTEGER NOT NULL DEFAULT 0,
        interrupted INTEGER NOT NULL DEFAULT 0,    -- the last association that delivered to it did not end with a release
        status TEXT NOT NULL DEFAULT 'receiving',  -- receiving | imported | import-failed
        rule TEXT NOT NULL DEFAULT '',             -- the rule that matched at import ('' when none)
        detail TEXT NOT NULL DEFAULT '',
        imported_at TEXT
      );
      CREATE TABLE node_jobs (
        id INTEGER PRIMARY KEY,
        series_uid TEXT NOT NULL,
        rule TEXT NOT NULL,
        template_set TEXT NOT NULL,
        destination TEXT NOT NULL,                 -- a saved destination name or AET@HOST:PORT
        send_mode TEXT NOT NULL,                   -- now | approval
        status TEXT NOT NULL DEFAULT 'queued',     -- queued | contouring | awaiting-approval | sending | sent | failed
        run_id INTEGER,
        rtstruct_path TEXT NOT NULL DEFAULT '',
        rtstruct_sop TEXT NOT NULL DEFAULT '',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_ms INTEGER NOT NULL DEFAULT 0,
        last_error TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        sent_at TEXT,
        UNIQUE (series_uid, rule)
      );
    `);
  },
};
