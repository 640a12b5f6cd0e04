/** A minimal in-memory ArchivePort: one 4x3x2 CT series, registered in the database on import. */
import type { SeriesSummary } from '../../../electron/api.js';
import type { ArchivePort } from '../../../electron/engine/service.js';
import { NotFoundError } from '../../../electron/engine/errors.js';

export const FAKE_SERIES: SeriesSummary = {
  seriesUid: '1.2.826.0.1.3680043.8.498.1',
  studyUid: '1.2.826.0.1.3680043.8.498.2',
  patientId: 'P1',
  patientName: 'Test^Patient',
  modality: 'CT',
  frameOfReferenceUid: '1.2.826.0.1.3680043.8.498.3',
  description: 'fake',
  studyDate: '20260101',
  dims: [4, 3, 2],
  spacing: [1, 1, 2],
  origin: [-10, -20, 30],
  direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  instances: 2,
  source: 'dicom',
};

export function fakeArchive(): ArchivePort & { imported: string[][] } {
  const imported: string[][] = [];
  return {
    imported,
    async importPaths(db, paths, opts) {
      imported.push(paths);
      db.prepare(`INSERT OR IGNORE INTO patients (id, patient_id, name) VALUES (1, 'P1', 'Test^Patient')`).run();
      db.prepare(`INSERT OR IGNORE INTO studies (study_uid, patient_ref) VALUES (?, 1)`).run(FAKE_SERIES.studyUid);
      db.prepare(`INSERT OR IGNORE INTO series (series_uid, study_uid, modality) VALUES (?, ?, 'CT')`).run(FAKE_SERIES.seriesUid, FAKE_SERIES.studyUid);
      opts.onProgress?.(1, 1, 'done');
      return { series: [FAKE_SERIES], objects: [], skipped: [], warnings: [{ path: paths[0]!, message: 'fake warning' }] };
    },
    listSeries(db) {
      return db.prepare(`SELECT 1 FROM series WHERE series_uid = ?`).get(FAKE_SERIES.seriesUid) ? [FAKE_SERIES] : [];
    },
    async loadVolume(_db, seriesUid) {
      if (seriesUid !== FAKE_SERIES.seriesUid) throw new NotFoundError(`series ${seriesUid} is not in the archive`, { seriesUid });
      const data = new Float32Array(24);
      for (let i = 0; i < 24; i++) data[i] = i * 10 - 100;
      return { dims: FAKE_SERIES.dims, spacing: FAKE_SERIES.spacing, origin: FAKE_SERIES.origin, direction: FAKE_SERIES.direction, data };
    },
  };
}
