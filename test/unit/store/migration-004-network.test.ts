import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { migrate, openDatabase, schemaVersion } from '../../../electron/engine/store/db.js';
import { listExports, recordExport, usedExportUids } from '../../../electron/engine/rtstruct/exports-log.js';
import { getDestination, listDestinations, parseDestination, saveDestination } from '../../../electron/engine/dimse/destination.js';
import { tempDir } from '../../helpers/data.js';

test('migration 3 -> 4 keeps the archive and adds destinations and the exports log', (t) => {
  const db = openDatabase(join(tempDir(t), 'db.sqlite'), { targetVersion: 3 });
  t.after(() => db.close());
  db.prepare(`INSERT INTO patients (patient_id, name) VALUES ('P1', 'Doe^J')`).run();
  db.prepare(`INSERT INTO studies (study_uid, patient_ref) VALUES ('1.2.3', 1)`).run();
  db.prepare(`INSERT INTO series (series_uid, study_uid, modality) VALUES ('1.2.3.4', '1.2.3', 'CT')`).run();
  migrate(db, 4);
  assert.equal(schemaVersion(db), 4);
  assert.deepEqual(db.prepare('SELECT count(*) AS n FROM series').get(), { n: 1 });
  recordExport(db, { seriesUid: '1.2.3.4', kind: 'rtstruct', path: '/x/rs.dcm', sopInstanceUid: '2.25.1', seriesInstanceUid: '2.25.2' });
  assert.deepEqual([...usedExportUids(db)].sort(), ['2.25.1', '2.25.2']);
  saveDestination(db, 'tps', parseDestination('ECLIPSE@tps.local:104'));
  assert.equal(getDestination(db, 'tps').port, 104);
});

test('destinations and the exports log on the migration-4 tables', (t) => {
  const db = openDatabase(join(tempDir(t), 'db.sqlite'));
  t.after(() => db.close());
  saveDestination(db, 'tps', parseDestination('ECLIPSE@10.0.0.5:104', { callingAeTitle: 'PLANNER', timeoutMs: 5000 }));
  saveDestination(db, 'pacs', parseDestination('PACS@[::1]:11112'));
  saveDestination(db, 'tps', parseDestination('ECLIPSE2@10.0.0.6:105', { callingAeTitle: 'PLANNER' }));
  assert.deepEqual(listDestinations(db).map((d) => [d.name, d.aeTitle, d.host, d.port, d.callingAeTitle]), [
    ['pacs', 'PACS', '::1', 11112, 'DELINEATE'],
    ['tps', 'ECLIPSE2', '10.0.0.6', 105, 'PLANNER'],
  ]);
  assert.throws(() => getDestination(db, 'nope'), /no DICOM destination named 'nope'/);
  // The port constraint holds even for a row written around the repository.
  assert.throws(() => db.prepare(`INSERT INTO destinations (name, ae_title, host, port) VALUES ('x', 'X', 'h', 70000)`).run());
  recordExport(db, { kind: 'send', path: '/x/rs.dcm', destination: 'ECLIPSE@10.0.0.5:104', status: 'failed', detail: 'status 0xA700' });
  recordExport(db, { seriesUid: '1.2', kind: 'rtstruct', path: '/x/rs.dcm', sopInstanceUid: '2.25.7', seriesInstanceUid: '2.25.8' });
  assert.deepEqual(listExports(db).map((e) => [e.kind, e.status]), [['send', 'failed'], ['rtstruct', 'ok']]);
  assert.deepEqual([...usedExportUids(db)].sort(), ['2.25.7', '2.25.8'], 'sends do not mint UIDs');
});
