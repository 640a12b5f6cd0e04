/**
 * A synthetic archive index of many series (rows only, no pixel files) for the Studies screen's
 * search: patients with a few studies each, CT and MR series, some with a referencing RTSTRUCT,
 * some run (done or failed) with results in every review state. Written through the archive and
 * results repositories, as an import and a batch would write them. Deterministic in `count`.
 */
import type { Db } from '../../electron/engine/store/db.js';
import { upsertObject, upsertPatientStudy, upsertSeries } from '../../electron/engine/store/archive.js';
import { createOrFindRun } from '../../electron/engine/jobs/runs.js';
import { setReviewState, upsertLocalization, getResults } from '../../electron/engine/store/results.js';

export const SYNTHETIC_SET = 'Synthetic';

export interface SyntheticArchive {
  series: string[];
  /** Series index -> what was written, for tests to compute expected answers. */
  facts: { uid: string; patientId: string; modality: string; date: string; rtstruct: boolean; run: 'none' | 'done' | 'failed'; review: 'none' | 'pending' | 'approved' | 'rejected' }[];
}

export function writeSyntheticArchive(db: Db, count: number): SyntheticArchive {
  const facts: SyntheticArchive['facts'] = [];
  db.prepare('INSERT OR IGNORE INTO template_sets (name) VALUES (?)').run(SYNTHETIC_SET);
  db.transaction(() => {
    for (let n = 0; n < count; n++) {
      const patient = Math.floor(n / 4);
      const study = Math.floor(n / 2);
      const patientId = `SYN${String(patient).padStart(5, '0')}`;
      const studyUid = `2.25.1000.${study}`;
      const date = `20${String(10 + (study % 15)).padStart(2, '0')}${String(1 + (study % 12)).padStart(2, '0')}${String(1 + (study % 28)).padStart(2, '0')}`;
      const uid = `2.25.2000.${n}`;
      const modality = n % 5 === 4 ? 'MR' : 'CT';
      upsertPatientStudy(db, { patientId, patientName: `Synthetic^Patient${patient}`, birthDate: '', sex: '', studyUid, studyDate: date, studyTime: '', studyDescription: n % 3 === 0 ? 'HEAD NECK RT' : 'THORAX', accession: '', studyId: '' });
      upsertSeries(db, {
        seriesUid: uid, studyUid, modality, frameOfReferenceUid: `2.25.3000.${study}`, description: `${modality} series ${n}`, seriesNumber: String(n % 2 + 1), seriesDate: date, source: 'dicom',
        geometry: { dims: [512, 512, 120], spacing: [0.98, 0.98, 2.5], origin: [-250, -250, -150], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] }, warnings: [],
      });
      const rtstruct = n % 7 === 0;
      if (rtstruct) upsertObject(db, { sopInstanceUid: `2.25.4000.${n}`, modality: 'RTSTRUCT', sopClassUid: '1.2.840.10008.5.1.4.1.1.481.3', studyUid, seriesUid: `2.25.5000.${n}`, referencedSeriesUid: uid, path: `/synthetic/rs${n}.dcm`, label: 'RS' });
      facts.push({ uid, patientId, modality, date, rtstruct, run: 'none', review: 'none' });
    }
  })();
  // A run over a third of the CT series: most done with results, some failed.
  const ran = facts.filter((f, n) => f.modality === 'CT' && n % 3 === 0);
  if (ran.length > 0) {
    const { run } = createOrFindRun(db, { templateSet: SYNTHETIC_SET, series: ran.map((f) => f.uid), createdBy: 'synthetic' });
    db.transaction(() => {
      ran.forEach((f, i) => {
        const failed = i % 10 === 9;
        f.run = failed ? 'failed' : 'done';
        db.prepare(`UPDATE run_items SET status = ? WHERE run_id = ? AND series_uid = ?`).run(f.run, run.id, f.uid);
        if (failed) return;
        upsertLocalization(db, {
          seriesUid: f.uid, templateSet: SYNTHETIC_SET, localizer: 'atlas', mode: 'wpl', models: [],
          structures: ['Brainstem', 'Parotid_L', 'Parotid_R'].map((name) => ({ name, boxes: [{ min: [0, 0, 0], max: [10, 10, 10] }], extremePoints: [], confidence: 0.9, flags: [] })),
        });
        const rows = getResults(db, f.uid, SYNTHETIC_SET);
        // Review states cycle: all pending; all approved; one rejected and the others approved.
        const kind = i % 3;
        if (kind > 0) for (const r of rows) setReviewState(db, r.id, 'approved', 'synthetic');
        if (kind === 2) setReviewState(db, rows[0]!.id, 'rejected', 'synthetic');
        f.review = kind === 0 ? 'pending' : kind === 1 ? 'approved' : 'rejected';
      });
    })();
  }
  return { series: facts.map((f) => f.uid), facts };
}
