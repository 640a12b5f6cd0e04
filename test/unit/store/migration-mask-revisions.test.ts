import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { migrate, openDatabase, schemaVersion } from '../../../electron/engine/store/db.js';
import { m008MaskRevisions } from '../../../electron/engine/store/migrations/008_mask_revisions.js';
import { MIGRATIONS } from '../../../electron/engine/store/migrations/index.js';
import { getResultMask, getResults, getRevisionMask, listRevisions, upsertLocalization, upsertSegmentation } from '../../../electron/engine/store/results.js';
import { tempDir } from '../../helpers/data.js';

const V = MIGRATIONS.indexOf(m008MaskRevisions) + 1;

test('mask revisions migration: an existing mask becomes revision 1 from its segmenter', (t) => {
  const db = openDatabase(join(tempDir(t), 'db.sqlite'), { targetVersion: V - 1 });
  t.after(() => db.close());
  db.prepare(`INSERT INTO patients (patient_id, name) VALUES ('P1', 'Doe^J')`).run();
  db.prepare(`INSERT INTO studies (study_uid, patient_ref) VALUES ('1.2.3', 1)`).run();
  db.prepare(`INSERT INTO series (series_uid, study_uid, modality) VALUES ('1.2.3.4', '1.2.3', 'CT')`).run();
  db.prepare(`INSERT INTO structures (name) VALUES ('Liver'), ('Heart')`).run();
  db.prepare(`INSERT INTO template_sets (name) VALUES ('Abd')`).run();
  const mask = Uint8Array.from([0, 1, 1, 0]);
  db.prepare(`INSERT INTO results (series_uid, set_id, structure, segmenter, mask, voxels) VALUES ('1.2.3.4', 1, 'Liver', 'atlas', ?, 2)`).run(gzipSync(mask));
  db.prepare(`INSERT INTO results (series_uid, set_id, structure, localizer) VALUES ('1.2.3.4', 1, 'Heart', 'atlas')`).run();
  migrate(db, V);
  assert.equal(schemaVersion(db), V);
  const [heart, liver] = getResults(db, '1.2.3.4', 'Abd');
  assert.deepEqual([liver!.structure, liver!.revision, liver!.revisionSource, liver!.revisionActor], ['Liver', 1, 'segmenter', 'atlas']);
  assert.deepEqual([heart!.structure, heart!.revision], ['Heart', 0], 'a box without a mask has no revision');
  assert.deepEqual(getResultMask(db, liver!.id), mask);

  // A new segmentation and a re-localization keep the superseded masks.
  const second = Uint8Array.from([1, 1, 1, 0]);
  upsertSegmentation(db, { seriesUid: '1.2.3.4', templateSet: 'Abd', segmenter: 'medsam', models: [], structures: [{ name: 'Liver', mask: second, voxels: 3, volumeCc: 3 }] });
  upsertLocalization(db, { seriesUid: '1.2.3.4', templateSet: 'Abd', localizer: 'medlam', mode: 'wpl', models: [], structures: [{ name: 'Liver', boxes: [], extremePoints: [], confidence: 1, flags: [] }] });
  const third = Uint8Array.from([0, 0, 1, 1]);
  upsertSegmentation(db, { seriesUid: '1.2.3.4', templateSet: 'Abd', segmenter: 'medsam', models: [], structures: [{ name: 'Liver', mask: third, voxels: 2, volumeCc: 2 }] });
  assert.deepEqual(listRevisions(db, liver!.id).map((r) => [r.revision, r.actor, r.voxels, r.current]), [[1, 'atlas', 2, false], [2, 'medsam', 3, false], [3, 'medsam', 2, true]]);
  assert.deepEqual(getRevisionMask(db, liver!.id, 1), mask);
  assert.deepEqual(getRevisionMask(db, liver!.id, 2), second);
  assert.deepEqual(getRevisionMask(db, liver!.id, 3), third);
  assert.throws(() => getRevisionMask(db, liver!.id, 9), /Liver on series 1\.2\.3\.4 has no mask revision 9/);
});
