import type { Migration } from './types.js';

/** The archive index: patients, studies, series (with their assembled geometry), instances, non-image objects. */
export const m001Archive: Migration = {
  version: 1,
  name: 'archive',
  up(db) {
    db.exec(`
      CREATE TABLE patients (
        id INTEGER PRIMARY KEY,
        patient_id TEXT NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        birth_date TEXT NOT NULL DEFAULT '',
        sex TEXT NOT NULL DEFAULT '',
        UNIQUE (patient_id, name)
      );
      CREATE TABLE studies (
        study_uid TEXT PRIMARY KEY,
        patient_ref INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
        study_date TEXT NOT NULL DEFAULT '',
        study_time TEXT NOT NULL DEFAULT '',
        description TEXT NOT NULL DEFAULT '',
        accession TEXT NOT NULL DEFAULT '',
        study_id TEXT NOT NULL DEFAULT ''
      );
      CREATE TABLE series (
        series_uid TEXT PRIMARY KEY,
        study_uid TEXT NOT NULL REFERENCES studies(study_uid) ON DELETE CASCADE,
        modality TEXT NOT NULL,
        frame_of_reference_uid TEXT NOT NULL DEFAULT '',
        description TEXT NOT NULL DEFAULT '',
        series_number TEXT NOT NULL DEFAULT '',
        series_date TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL DEFAULT 'dicom',      -- 'dicom' or 'nifti'
        geometry_json TEXT,                         -- {dims, spacing, origin, direction} once assembled
        warnings_json TEXT NOT NULL DEFAULT '[]',
        imported_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      );
      CREATE TABLE instances (
        sop_instance_uid TEXT PRIMARY KEY,
        series_uid TEXT NOT NULL REFERENCES series(series_uid) ON DELETE CASCADE,
        path TEXT NOT NULL,
        instance_number INTEGER,
        position_json TEXT,                         -- ImagePositionPatient
        orientation_json TEXT,                      -- ImageOrientationPatient
        slice_index INTEGER,                        -- order along the slice normal once assembled
        file_size INTEGER NOT NULL DEFAULT 0,
        file_mtime_ms INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX instances_series ON instances(series_uid);
      CREATE UNIQUE INDEX instances_path ON instances(path);
      CREATE TABLE objects (
        sop_instance_uid TEXT PRIMARY KEY,
        modality TEXT NOT NULL,                     -- RTSTRUCT, RTDOSE, RTPLAN, SEG, ...
        sop_class_uid TEXT NOT NULL DEFAULT '',
        study_uid TEXT NOT NULL DEFAULT '',
        series_uid TEXT NOT NULL DEFAULT '',
        referenced_series_uid TEXT,
        path TEXT NOT NULL,
        label TEXT NOT NULL DEFAULT ''
      );
      CREATE INDEX objects_ref ON objects(referenced_series_uid);
    `);
  },
};
