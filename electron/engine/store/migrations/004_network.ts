import type { Migration } from './types.js';

/**
 * DICOM destinations (C-STORE peers: AE title, host, port, calling AE title, timeout) and the exports
 * log (every RTSTRUCT written and every object sent, with its UIDs, so that a UID is never reused
 * and a planner can see what went where). series_uid is not a foreign key: the log outlives a series
 * removed from the archive.
 */
export const m004Network: Migration = {
  version: 4,
  name: 'destinations-and-exports',
  up(db) {
    db.exec(`
      CREATE TABLE destinations (
        name TEXT PRIMARY KEY,
        ae_title TEXT NOT NULL,
        host TEXT NOT NULL,
        port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
        calling_ae_title TEXT NOT NULL DEFAULT 'DELINEATE',
        timeout_ms INTEGER NOT NULL DEFAULT 30000,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      );
      CREATE TABLE exports (
        id INTEGER PRIMARY KEY,
        series_uid TEXT NOT NULL DEFAULT '',        -- the image series the object refers to
        kind TEXT NOT NULL,                         -- rtstruct | labels | send
        path TEXT NOT NULL DEFAULT '',
        sop_instance_uid TEXT NOT NULL DEFAULT '',
        series_instance_uid TEXT NOT NULL DEFAULT '',
        destination TEXT NOT NULL DEFAULT '',       -- AET@HOST:PORT for sends
        status TEXT NOT NULL DEFAULT 'ok',          -- ok | failed (sends)
        detail TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      );
      CREATE INDEX exports_series ON exports(series_uid);
      CREATE INDEX exports_sop ON exports(sop_instance_uid);
    `);
  },
};
