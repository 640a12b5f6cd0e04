import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { upsertLocalization, upsertSegmentation, getResults, getResultMask, setReviewState } from '../../../electron/engine/store/results.js';
import { tempDir } from '../../helpers/data.js';

function seed(file: string) {
  const db = openDatabase(file);
  db.exec(`INSERT INTO patients (patient_id) VALUES ('P');
           INSERT INTO studies (study_uid, patient_ref) VALUES ('1.2', 1);
           INSERT INTO series (series_uid, study_uid, modality) VALUES ('1.2.3', '1.2', 'CT');
           INSERT INTO template_sets (name) VALUES ('HN');`);
  return db;
}

const box = { min: [-10, -20, -30] as [number, number, number], max: [10, 20, 30] as [number, number, number] };

test('localization then segmentation merge into one row; a new localization clears the old mask and approval', (t) => {
  const db = seed(join(tempDir(t), 'db.sqlite'));
  upsertLocalization(db, {
    seriesUid: '1.2.3', templateSet: 'HN', localizer: 'medlam', mode: 'wpl', models: [{ name: 'medlam', sha256: 'aa' }],
    structures: [{ name: 'Brainstem', boxes: [box], extremePoints: [], confidence: 0.8, flags: ['cut-off'] }],
  });
  const mask = new Uint8Array(1000);
  mask.fill(1, 100, 250);
  upsertSegmentation(db, {
    seriesUid: '1.2.3', templateSet: 'HN', segmenter: 'medsam', models: [{ name: 'sam', sha256: 'bb' }],
    structures: [{ name: 'Brainstem', mask, voxels: 150, volumeCc: 0.15 }],
  });
  let [r] = getResults(db, '1.2.3', 'HN');
  assert.ok(r);
  assert.deepEqual(r.boxes, [box]);
  assert.deepEqual(r.flags, ['cut-off']);
  assert.deepEqual(r.models.map((m) => m.name).sort(), ['medlam', 'sam']);
  assert.equal(r.confidence, 0.8);
  assert.deepEqual(getResultMask(db, r.id), mask);
  setReviewState(db, r.id, 'approved', 'dr.who');
  assert.equal(getResults(db, '1.2.3')[0]!.reviewState, 'approved');
  upsertLocalization(db, {
    seriesUid: '1.2.3', templateSet: 'HN', localizer: 'medlam', mode: 'wpl', models: [],
    structures: [{ name: 'Brainstem', boxes: [box], extremePoints: [], confidence: 0.5, flags: [] }],
  });
  [r] = getResults(db, '1.2.3', 'HN');
  assert.equal(r!.hasMask, false);
  assert.equal(r!.reviewState, 'pending');
  assert.equal(getResults(db, '1.2.3').length, 1, 'no duplicate rows');
  db.close();
});

test('an unknown template set is refused by name', (t) => {
  const db = seed(join(tempDir(t), 'db.sqlite'));
  assert.throws(
    () => upsertLocalization(db, { seriesUid: '1.2.3', templateSet: 'nope', localizer: 'x', mode: 'wpl', models: [], structures: [] }),
    /template set 'nope'/,
  );
  db.close();
});
