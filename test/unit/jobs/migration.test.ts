import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openDatabase, migrate, schemaVersion } from '../../../electron/engine/store/db.js';
import { tempDir } from '../../helpers/data.js';

test('migration 4 -> 5 keeps results and adds runs, run items and the audit trail', (t) => {
  const before = 4;
  const db = openDatabase(join(tempDir(t), 'db.sqlite'), { targetVersion: before });
  t.after(() => db.close());
  assert.equal(schemaVersion(db), before);
  db.exec(`INSERT INTO patients (patient_id) VALUES ('P');
           INSERT INTO studies (study_uid, patient_ref) VALUES ('1.2', 1);
           INSERT INTO series (series_uid, study_uid, modality) VALUES ('1.2.3', '1.2', 'CT');
           INSERT INTO structures (name) VALUES ('Brainstem');
           INSERT INTO template_sets (name) VALUES ('HN');
           INSERT INTO results (series_uid, set_id, structure, review_state) VALUES ('1.2.3', 1, 'Brainstem', 'approved');`);
  migrate(db, 5);
  assert.equal(schemaVersion(db), 5);
  assert.deepEqual(db.prepare('SELECT structure, review_state FROM results').all(), [{ structure: 'Brainstem', review_state: 'approved' }]);
  db.exec(`INSERT INTO runs (set_id, selection) VALUES (1, '1.2.3');
           INSERT INTO run_items (run_id, position, series_uid) VALUES (1, 0, '1.2.3');
           INSERT INTO audit (actor, actor_kind, action, series_uid, template_set, structure) VALUES ('delineate', 'algorithm', 'created', '1.2.3', 'HN', 'Brainstem');`);
  assert.deepEqual(db.prepare('SELECT status, attempts FROM run_items').get(), { status: 'pending', attempts: 0 });
  // One item per series in a run.
  assert.throws(() => db.exec(`INSERT INTO run_items (run_id, position, series_uid) VALUES (1, 1, '1.2.3')`), /UNIQUE/);
  // Deleting the set removes its runs and items; the audit trail stays.
  db.exec(`DELETE FROM template_sets WHERE name = 'HN'`);
  assert.deepEqual(db.prepare('SELECT count(*) AS n FROM run_items').get(), { n: 0 });
  assert.deepEqual(db.prepare('SELECT count(*) AS n FROM audit').get(), { n: 1 });
});
