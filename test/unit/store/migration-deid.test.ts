import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openDatabase, migrate, schemaVersion } from '../../../electron/engine/store/db.js';
import { m011Deid } from '../../../electron/engine/store/migrations/011_deid.js';
import { projectPseudonyms } from '../../../electron/engine/deid/mapping.js';
import { tempDir } from '../../helpers/data.js';

test('de-identification migration keeps archive rows and adds per-project pseudonyms that persist across opens', (t) => {
  const file = join(tempDir(t), 'db.sqlite');
  const db = openDatabase(file, { targetVersion: m011Deid.version - 1 });
  db.prepare("INSERT INTO patients (patient_id, name) VALUES ('P1', 'Doe^Jane')").run();
  migrate(db, m011Deid.version);
  assert.equal(schemaVersion(db), m011Deid.version);
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM patients').get() as { n: number }).n, 1);
  const a = projectPseudonyms(db);
  const uid = a.uid('1.2.3.4');
  const patient = a.patient('P1', 'Doe^Jane');
  assert.match(uid, /^2\.25\.\d+$/);
  assert.notEqual(projectPseudonyms(db, 'other').uid('1.2.3.4'), uid, 'another project, another pseudonym');
  assert.deepEqual(projectPseudonyms(db).patient('P1', 'DOE^JANE'), patient, 'keyed by PatientID');
  assert.ok(patient.dateOffsetDays <= -365 && patient.dateOffsetDays >= -3650);
  assert.ok(!patient.id.includes('P1'));
  db.close();
  const again = openDatabase(file);
  assert.equal(projectPseudonyms(again).uid('1.2.3.4'), uid);
  again.close();
});
