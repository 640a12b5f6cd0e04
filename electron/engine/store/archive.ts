/**
 * The archive repository over migration 1's tables (patients, studies, series, instances, objects).
 * Series geometry ({dims, spacing, origin, direction}) is computed at import and stored as JSON in
 * series.geometry_json; positions are LPS mm.
 */
import type { ImportedObject, SeriesSummary } from '../../api.js';
import { NotFoundError } from '../errors.js';
import type { Geometry, Vec3 } from '../volume/geometry.js';
import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';

export interface StoredGeometry extends Geometry {
  /** False when slices sit at non-uniform positions and the volume is interpolated along k. */
  uniform?: boolean;
}

export interface SeriesRow {
  series_uid: string;
  study_uid: string;
  modality: string;
  frame_of_reference_uid: string;
  description: string;
  source: string;
  geometry_json: string | null;
  warnings_json: string;
  patient_id: string;
  patient_name: string;
  study_date: string;
  instances: number;
}

export const SERIES_SELECT = `
  SELECT s.series_uid, s.study_uid, s.modality, s.frame_of_reference_uid, s.description, s.source,
         s.geometry_json, s.warnings_json, p.patient_id, p.name AS patient_name, st.study_date,
         (SELECT COUNT(*) FROM instances i WHERE i.series_uid = s.series_uid) AS instances
  FROM series s JOIN studies st ON st.study_uid = s.study_uid JOIN patients p ON p.id = st.patient_ref`;

/** Prepared statements, cached per connection (preparing costs more than running these small queries). */
const statements = new WeakMap<Db, Map<string, Statement>>();

function stmt(db: Db, sql: string): Statement {
  let m = statements.get(db);
  if (!m) statements.set(db, (m = new Map()));
  let st = m.get(sql);
  if (!st) m.set(sql, (st = db.prepare(sql)));
  return st;
}

const EMPTY_GEOMETRY: StoredGeometry = { dims: [0, 0, 0], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };

export function parseGeometry(json: string | null): StoredGeometry {
  if (!json) return EMPTY_GEOMETRY;
  return JSON.parse(json) as StoredGeometry;
}

export function toSummary(r: SeriesRow): SeriesSummary {
  const g = parseGeometry(r.geometry_json);
  return {
    seriesUid: r.series_uid,
    studyUid: r.study_uid,
    patientId: r.patient_id,
    patientName: r.patient_name,
    modality: r.modality,
    frameOfReferenceUid: r.frame_of_reference_uid,
    description: r.description,
    studyDate: r.study_date,
    dims: g.dims,
    spacing: g.spacing,
    origin: g.origin,
    direction: g.direction,
    instances: r.instances,
    source: r.source === 'nifti' ? 'nifti' : 'dicom',
  };
}

export function listSeries(db: Db): SeriesSummary[] {
  const rows = stmt(db, `${SERIES_SELECT} ORDER BY p.patient_id, st.study_date, s.series_number, s.series_uid`).all() as SeriesRow[];
  return rows.map(toSummary);
}

export function getSeries(db: Db, seriesUid: string): SeriesSummary {
  const row = stmt(db, `${SERIES_SELECT} WHERE s.series_uid = ?`).get(seriesUid) as SeriesRow | undefined;
  if (!row) throw new NotFoundError(`no series ${seriesUid} in the archive`, { seriesUid });
  return toSummary(row);
}

/** The stored geometry, including whether the slices are uniform. */
export function getSeriesGeometry(db: Db, seriesUid: string): StoredGeometry & { source: 'dicom' | 'nifti' } {
  const row = stmt(db, 'SELECT geometry_json, source FROM series WHERE series_uid = ?').get(seriesUid) as
    | { geometry_json: string | null; source: string }
    | undefined;
  if (!row) throw new NotFoundError(`no series ${seriesUid} in the archive`, { seriesUid });
  return { ...parseGeometry(row.geometry_json), source: row.source === 'nifti' ? 'nifti' : 'dicom' };
}

export function getSeriesWarnings(db: Db, seriesUid: string): string[] {
  const row = stmt(db, 'SELECT warnings_json FROM series WHERE series_uid = ?').get(seriesUid) as { warnings_json: string } | undefined;
  return row ? (JSON.parse(row.warnings_json) as string[]) : [];
}

export interface InstanceRef {
  sopInstanceUid: string;
  sopClassUid: string;
  path: string;
  position: Vec3;
  /** Index on the volume's k axis (0 = most inferior along the slice normal). */
  sliceIndex: number;
}

const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';

/**
 * The series' images ordered along the slice normal (the volume's k axis). The SOP class is not a
 * column of migration 1; every indexed image series is single-frame, and the importer accepts only
 * image SOP classes, so CT Image Storage is reported for CT and the class of the modality otherwise.
 */
export function getInstances(db: Db, seriesUid: string): InstanceRef[] {
  const series = stmt(db, 'SELECT modality, geometry_json FROM series WHERE series_uid = ?').get(seriesUid) as
    | { modality: string; geometry_json: string | null }
    | undefined;
  if (!series) throw new NotFoundError(`no series ${seriesUid} in the archive`, { seriesUid });
  const rows = stmt(db, 'SELECT sop_instance_uid, path, position_json, slice_index FROM instances WHERE series_uid = ? ORDER BY slice_index, sop_instance_uid')
    .all(seriesUid) as { sop_instance_uid: string; path: string; position_json: string | null; slice_index: number | null }[];
  const cls = sopClassForModality(series.modality);
  return rows.map((r) => ({
    sopInstanceUid: r.sop_instance_uid,
    sopClassUid: cls,
    path: r.path,
    position: r.position_json ? (JSON.parse(r.position_json) as Vec3) : [0, 0, 0],
    sliceIndex: r.slice_index ?? 0,
  }));
}

export function sopClassForModality(modality: string): string {
  switch (modality) {
    case 'MR':
      return '1.2.840.10008.5.1.4.1.1.4';
    case 'PT':
      return '1.2.840.10008.5.1.4.1.1.128';
    default:
      return CT_IMAGE_STORAGE;
  }
}

export function getObjects(db: Db, filter: { referencedSeriesUid?: string } = {}): (ImportedObject & { sopClassUid: string; label: string })[] {
  const rows = (
    filter.referencedSeriesUid !== undefined
      ? stmt(db, 'SELECT * FROM objects WHERE referenced_series_uid = ? ORDER BY path').all(filter.referencedSeriesUid)
      : stmt(db, 'SELECT * FROM objects ORDER BY path').all()
  ) as { sop_instance_uid: string; modality: string; sop_class_uid: string; referenced_series_uid: string | null; path: string; label: string }[];
  return rows.map((r) => ({
    sopInstanceUid: r.sop_instance_uid,
    modality: r.modality,
    referencedSeriesUid: r.referenced_series_uid,
    path: r.path,
    sopClassUid: r.sop_class_uid,
    label: r.label,
  }));
}

// ---- writes (used by the importer) ----

export interface PatientStudy {
  patientId: string;
  patientName: string;
  birthDate: string;
  sex: string;
  studyUid: string;
  studyDate: string;
  studyTime: string;
  studyDescription: string;
  accession: string;
  studyId: string;
}

export function upsertPatientStudy(db: Db, p: PatientStudy): void {
  stmt(db, 'INSERT OR IGNORE INTO patients (patient_id, name, birth_date, sex) VALUES (?, ?, ?, ?)').run(p.patientId, p.patientName, p.birthDate, p.sex);
  const { id } = stmt(db, 'SELECT id FROM patients WHERE patient_id = ? AND name = ?').get(p.patientId, p.patientName) as { id: number };
  stmt(db, 
    `INSERT INTO studies (study_uid, patient_ref, study_date, study_time, description, accession, study_id)
     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(study_uid) DO NOTHING`,
  ).run(p.studyUid, id, p.studyDate, p.studyTime, p.studyDescription, p.accession, p.studyId);
}

export interface SeriesWrite {
  seriesUid: string;
  studyUid: string;
  modality: string;
  frameOfReferenceUid: string;
  description: string;
  seriesNumber: string;
  seriesDate: string;
  source: 'dicom' | 'nifti';
  geometry: StoredGeometry;
  warnings: string[];
}

export function upsertSeries(db: Db, s: SeriesWrite): void {
  stmt(db, 
    `INSERT INTO series (series_uid, study_uid, modality, frame_of_reference_uid, description, series_number, series_date, source, geometry_json, warnings_json)
     VALUES (@seriesUid, @studyUid, @modality, @frameOfReferenceUid, @description, @seriesNumber, @seriesDate, @source, @geometry, @warnings)
     ON CONFLICT(series_uid) DO UPDATE SET geometry_json = excluded.geometry_json, warnings_json = excluded.warnings_json`,
  ).run({ ...s, geometry: JSON.stringify(s.geometry), warnings: JSON.stringify(s.warnings) });
}

export interface InstanceWrite {
  sopInstanceUid: string;
  seriesUid: string;
  path: string;
  instanceNumber: number | null;
  position: Vec3 | null;
  orientation: readonly number[] | null;
  sliceIndex: number;
  fileSize: number;
  fileMtimeMs: number;
}

export function upsertInstance(db: Db, i: InstanceWrite): void {
  stmt(db, 'DELETE FROM instances WHERE path = ? AND sop_instance_uid <> ?').run(i.path, i.sopInstanceUid);
  stmt(db, 
    `INSERT INTO instances (sop_instance_uid, series_uid, path, instance_number, position_json, orientation_json, slice_index, file_size, file_mtime_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(sop_instance_uid) DO UPDATE SET path = excluded.path, slice_index = excluded.slice_index,
       position_json = excluded.position_json, orientation_json = excluded.orientation_json,
       file_size = excluded.file_size, file_mtime_ms = excluded.file_mtime_ms`,
  ).run(
    i.sopInstanceUid,
    i.seriesUid,
    i.path,
    i.instanceNumber,
    i.position ? JSON.stringify(i.position) : null,
    i.orientation ? JSON.stringify(i.orientation) : null,
    i.sliceIndex,
    i.fileSize,
    Math.round(i.fileMtimeMs),
  );
}

export function setSliceIndex(db: Db, sopInstanceUid: string, sliceIndex: number): void {
  stmt(db, 'UPDATE instances SET slice_index = ? WHERE sop_instance_uid = ?').run(sliceIndex, sopInstanceUid);
}

export interface ObjectWrite {
  sopInstanceUid: string;
  modality: string;
  sopClassUid: string;
  studyUid: string;
  seriesUid: string;
  referencedSeriesUid: string | null;
  path: string;
  label: string;
}

export function upsertObject(db: Db, o: ObjectWrite): void {
  stmt(db, 
    `INSERT INTO objects (sop_instance_uid, modality, sop_class_uid, study_uid, series_uid, referenced_series_uid, path, label)
     VALUES (@sopInstanceUid, @modality, @sopClassUid, @studyUid, @seriesUid, @referencedSeriesUid, @path, @label)
     ON CONFLICT(sop_instance_uid) DO UPDATE SET path = excluded.path, referenced_series_uid = excluded.referenced_series_uid`,
  ).run(o);
}

/** What the archive already knows about a file path (for incremental import). */
export function knownFile(db: Db, path: string): { sopInstanceUid: string; seriesUid: string; size: number; mtimeMs: number } | { object: ImportedObject } | undefined {
  const i = stmt(db, 'SELECT sop_instance_uid, series_uid, file_size, file_mtime_ms FROM instances WHERE path = ?').get(path) as
    | { sop_instance_uid: string; series_uid: string; file_size: number; file_mtime_ms: number }
    | undefined;
  if (i) return { sopInstanceUid: i.sop_instance_uid, seriesUid: i.series_uid, size: i.file_size, mtimeMs: i.file_mtime_ms };
  const o = stmt(db, 'SELECT sop_instance_uid, modality, referenced_series_uid, path FROM objects WHERE path = ?').get(path) as
    | { sop_instance_uid: string; modality: string; referenced_series_uid: string | null; path: string }
    | undefined;
  if (o) return { object: { sopInstanceUid: o.sop_instance_uid, modality: o.modality, referencedSeriesUid: o.referenced_series_uid, path: o.path } };
  return undefined;
}

export interface StoredInstance {
  sopInstanceUid: string;
  path: string;
  instanceNumber: number | null;
  position: Vec3 | null;
  orientation: number[] | null;
}

export function storedInstances(db: Db, seriesUid: string): StoredInstance[] {
  const rows = stmt(db, 'SELECT sop_instance_uid, path, instance_number, position_json, orientation_json FROM instances WHERE series_uid = ?')
    .all(seriesUid) as { sop_instance_uid: string; path: string; instance_number: number | null; position_json: string | null; orientation_json: string | null }[];
  return rows.map((r) => ({
    sopInstanceUid: r.sop_instance_uid,
    path: r.path,
    instanceNumber: r.instance_number,
    position: r.position_json ? (JSON.parse(r.position_json) as Vec3) : null,
    orientation: r.orientation_json ? (JSON.parse(r.orientation_json) as number[]) : null,
  }));
}

export function instanceBySop(db: Db, sopInstanceUid: string): { path: string; seriesUid: string } | undefined {
  const r = stmt(db, 'SELECT path, series_uid FROM instances WHERE sop_instance_uid = ?').get(sopInstanceUid) as
    | { path: string; series_uid: string }
    | undefined;
  return r ? { path: r.path, seriesUid: r.series_uid } : undefined;
}

export function seriesRowInfo(db: Db, seriesUid: string): { studyUid: string; frameOfReferenceUid: string; geometry: StoredGeometry } | undefined {
  const r = stmt(db, 'SELECT study_uid, frame_of_reference_uid, geometry_json FROM series WHERE series_uid = ?').get(seriesUid) as
    | { study_uid: string; frame_of_reference_uid: string; geometry_json: string | null }
    | undefined;
  return r ? { studyUid: r.study_uid, frameOfReferenceUid: r.frame_of_reference_uid, geometry: parseGeometry(r.geometry_json) } : undefined;
}

/** Image series sharing a frame of reference (to attach RTDOSE/RTPLAN that name no series). */
export function seriesByFrameOfReference(db: Db, forUid: string): string[] {
  if (!forUid) return [];
  const rows = stmt(db, "SELECT series_uid FROM series WHERE frame_of_reference_uid = ? AND source = 'dicom' ORDER BY imported_at, series_uid").all(forUid) as { series_uid: string }[];
  return rows.map((r) => r.series_uid);
}
