/**
 * Pseudonyms kept per project in the local database (migration 006): a UID's replacement is a fresh
 * random 2.25 UID (PS3.5 B.2), a patient's is a random identifier with a random date offset of one
 * to ten years back. Nothing is derived from the originals, so a pseudonym reveals nothing; the
 * same original always maps to the same pseudonym within a project, and to another in another project.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { Db } from '../store/db.js';
import { newUid } from '../rtstruct/uid.js';
import type { PseudonymMap } from './deidentify.js';

export const DEFAULT_PROJECT = 'default';

function newPatientPseudonym(): string {
  return `DEID-${randomBytes(5).toString('hex').toUpperCase()}`;
}

/** Never 0 days: a shifted date must differ from the original. */
function newDateOffset(): number {
  return -randomInt(365, 3651);
}

/** The project's pseudonyms, created on first use (each in its own statement; callers may wrap a transaction). */
export function projectPseudonyms(db: Db, project = DEFAULT_PROJECT): PseudonymMap {
  const getUid = db.prepare('SELECT pseudonym FROM deid_uids WHERE project = ? AND original = ?');
  const putUid = db.prepare('INSERT OR IGNORE INTO deid_uids (project, original, pseudonym) VALUES (?, ?, ?)');
  const getPatient = db.prepare('SELECT pseudonym, date_offset_days FROM deid_patients WHERE project = ? AND original_key = ?');
  const putPatient = db.prepare('INSERT OR IGNORE INTO deid_patients (project, original_key, pseudonym, date_offset_days) VALUES (?, ?, ?, ?)');
  const cache = new Map<string, string>();
  return {
    uid(original) {
      const hit = cache.get(original);
      if (hit) return hit;
      let row = getUid.get(project, original) as { pseudonym: string } | undefined;
      if (!row) {
        putUid.run(project, original, newUid());
        row = getUid.get(project, original) as { pseudonym: string };
      }
      cache.set(original, row.pseudonym);
      return row.pseudonym;
    },
    patient(originalId, originalName) {
      // Keyed by PatientID: the objects of one patient (a CT and the RTSTRUCT a planning system wrote)
      // often spell the name differently. By name only when there is no ID.
      const key = originalId ? `id:${originalId}` : `name:${originalName}`;
      let row = getPatient.get(project, key) as { pseudonym: string; date_offset_days: number } | undefined;
      if (!row) {
        putPatient.run(project, key, newPatientPseudonym(), newDateOffset());
        row = getPatient.get(project, key) as { pseudonym: string; date_offset_days: number };
      }
      return { id: row.pseudonym, name: row.pseudonym, dateOffsetDays: row.date_offset_days };
    },
  };
}
