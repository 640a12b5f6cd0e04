/**
 * De-identified work packages (`cluster export --deidentify`): a package may go to a partner's
 * cluster, so it carries no identifiers. Its DICOM files pass through the Basic Profile (DICOM PS3.15
 * Annex E, engine/deid) with the project's pseudonyms, and the archive rows in inputs.sqlite are
 * rewritten by the same rules column by column: UIDs become the same pseudonyms the files carry,
 * the patient becomes their pseudonym, dates are removed (or shifted with the Modified Dates
 * option), descriptions, accession numbers, source paths and import warnings (which quote file
 * paths) are emptied. The original-to-pseudonym mapping stays in the archive's deid tables.
 */
import type { Db } from '../store/db.js';
import { InputError } from '../errors.js';
import { getSeries, getSeriesGeometry } from '../store/archive.js';
import { readPart10, toPart10, EXPLICIT_VR_LITTLE_ENDIAN } from '../rtstruct/dcmjs.js';
import { pixelEncoding } from '../dicom/transfer-syntax.js';
import { deidentifyDataset, shiftDate, type PseudonymMap } from '../deid/deidentify.js';
import { DEFAULT_PROJECT, projectPseudonyms } from '../deid/mapping.js';

export interface PackageDeidOptions {
  /** Pseudonym project (default 'default'): the same as `export dicom --deidentify --project`. */
  project?: string;
  modifiedDates?: boolean;
  allowBurnedInAnnotation?: boolean;
}

export interface PackageDeidentifier {
  description: { method: string; modifiedDates: boolean };
  /** Refuses, before anything is written, a series the package cannot carry de-identified. */
  check(seriesUid: string): void;
  uid(original: string): string;
  /** The de-identified Part 10 bytes of one archive instance. */
  instance(path: string, seriesUid: string, sopInstanceUid: string): Buffer;
  /** An archive row as inputs.sqlite may hold it. */
  row(table: string, row: Record<string, unknown>): Record<string, unknown>;
}

const UID_COLUMNS = new Set(['study_uid', 'series_uid', 'sop_instance_uid', 'frame_of_reference_uid']);
/** Free text and provenance that may name a patient, a person, a place or a file path. */
const EMPTIED: Record<string, readonly string[]> = {
  patients: ['birth_date', 'sex'],
  studies: ['description', 'accession', 'study_id'],
  series: ['description'],
  template_members: ['source_ref'],
};
const DATES: Record<string, readonly string[]> = { studies: ['study_date'], series: ['series_date'] };
const TIMES: Record<string, readonly string[]> = { studies: ['study_time'] };

export function packageDeidentifier(db: Db, opts: PackageDeidOptions): PackageDeidentifier {
  const map: PseudonymMap = projectPseudonyms(db, opts.project ?? DEFAULT_PROJECT);
  const modifiedDates = opts.modifiedDates ?? false;
  // The date offset is per patient: rows of a study find their patient through patient_ref.
  const patientOfStudy = db.prepare('SELECT p.patient_id, p.name FROM studies s JOIN patients p ON p.id = s.patient_ref WHERE s.study_uid = ?');
  const offsetFor = (studyUid: string): number => {
    const p = patientOfStudy.get(studyUid) as { patient_id: string; name: string } | undefined;
    return p ? map.patient(p.patient_id, p.name).dateOffsetDays : 0;
  };
  return {
    description: { method: `DICOM PS3.15 E.1 Basic Profile${modifiedDates ? '; Modified Dates' : ''}`, modifiedDates },
    check(seriesUid) {
      if (getSeriesGeometry(db, seriesUid).source !== 'dicom') {
        throw new InputError(
          `series ${seriesUid} was imported from NIfTI: a de-identified package carries DICOM series only (the profile covers DICOM attributes, not a NIfTI header's free text)`,
          { seriesUid },
        );
      }
    },
    uid: (u) => map.uid(u),
    instance(path, seriesUid, sopInstanceUid) {
      const s = getSeries(db, seriesUid);
      const { meta, dataset } = readPart10(path);
      // The archive's UIDs (generated ones included) are what inputs.sqlite and the results name.
      Object.assign(dataset, { SOPInstanceUID: sopInstanceUid, SeriesInstanceUID: seriesUid, StudyInstanceUID: s.studyUid, FrameOfReferenceUID: s.frameOfReferenceUid });
      const clean = deidentifyDataset(dataset, map, { modifiedDates, allowBurnedInAnnotation: opts.allowBurnedInAnnotation ?? false, label: `${path} (series ${seriesUid})` });
      const ts = String(meta.TransferSyntaxUID ?? EXPLICIT_VR_LITTLE_ENDIAN);
      const enc = pixelEncoding(ts);
      return toPart10(clean, enc === 'native' || enc === undefined ? EXPLICIT_VR_LITTLE_ENDIAN : ts);
    },
    row(table, row) {
      const out: Record<string, unknown> = { ...row };
      for (const [k, v] of Object.entries(row)) if (UID_COLUMNS.has(k) && typeof v === 'string' && v !== '') out[k] = map.uid(v);
      if (table === 'patients') {
        const p = map.patient(String(row.patient_id ?? ''), String(row.name ?? ''));
        out.patient_id = p.id;
        out.name = p.name;
      }
      for (const k of EMPTIED[table] ?? []) if (k in out) out[k] = '';
      const offset = modifiedDates && typeof row.study_uid === 'string' ? offsetFor(row.study_uid) : 0;
      for (const k of DATES[table] ?? []) if (k in out) out[k] = modifiedDates && String(row[k] ?? '').trim() ? shiftDate(String(row[k]), offset) : '';
      for (const k of TIMES[table] ?? []) if (k in out && !modifiedDates) out[k] = '';
      // Import warnings quote file paths; import and creation times are dates of the patient's care.
      if (table === 'series') {
        out.warnings_json = '[]';
        out.imported_at = '';
      }
      if (table === 'instances') out.file_mtime_ms = 0;
      if (table === 'template_members') out.created_at = '';
      return out;
    },
  };
}
