import type { Migration } from './types.js';

/**
 * De-identification pseudonyms (engine/deid): per project, each original UID's replacement and each
 * patient's pseudonym identity and date offset, so that every export of a project agrees with the
 * earlier ones. These tables are the only link back to the originals; they never leave the
 * database (no export writes them).
 */
export const m011Deid: Migration = {
  version: 11,
  name: 'deid-pseudonyms',
  up(db) {
    db.exec(`
      CREATE TABLE deid_uids (
        project TEXT NOT NULL,
        original TEXT NOT NULL,
        pseudonym TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        PRIMARY KEY (project, original)
      );
      CREATE TABLE deid_patients (
        project TEXT NOT NULL,
        original_key TEXT NOT NULL,                 -- 'id:' + PatientID of the source ('name:' + PatientName without one)
        pseudonym TEXT NOT NULL,                    -- random, never derived from the identity
        date_offset_days INTEGER NOT NULL,          -- Modified Dates Option: added to every date
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        PRIMARY KEY (project, original_key),
        UNIQUE (project, pseudonym)
      );
    `);
  },
};
