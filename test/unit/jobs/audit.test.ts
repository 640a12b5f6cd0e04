import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createOrFindRun } from '../../../electron/engine/jobs/runs.js';
import { runBatch } from '../../../electron/engine/jobs/runner.js';
import { InlineExecutor } from '../../../electron/engine/jobs/executor.js';
import { auditTrail, auditExport, reviewStructure } from '../../../electron/engine/audit/audit.js';
import { auditSummary, generationDescription } from '../../../electron/engine/audit/summary.js';
import { getResults } from '../../../electron/engine/store/results.js';
import { tempDir } from '../../helpers/data.js';
import { fakeWork, openJobsDb, seedArchive } from './helpers.js';

async function batchDone(t: import('node:test').TestContext) {
  const db = openJobsDb(join(tempDir(t), 'db.sqlite'));
  t.after(() => db.close());
  seedArchive(db, ['1.2.1']);
  const { run } = createOrFindRun(db, { templateSet: 'HN', series: ['1.2.1'] });
  await runBatch({ db, runId: run.id, executor: new InlineExecutor(db, fakeWork()) });
  return { db, runId: run.id };
}

test('the trail records creation by the run, review by a person and export, in order, with models and templates', async (t) => {
  const { db, runId } = await batchDone(t);
  reviewStructure(db, { seriesUid: '1.2.1', structure: 'Brainstem', state: 'approved', reviewer: 'A. Physicist', comment: 'checked on MPR' });
  reviewStructure(db, { seriesUid: '1.2.1', structure: 'SpinalCord', state: 'rejected', reviewer: 'A. Physicist' });
  auditExport(db, { actor: 'A. Physicist', seriesUid: '1.2.1', templateSet: 'HN', structures: ['Brainstem'], target: '/out/rs.dcm', sopInstanceUid: '2.25.1' });
  const trail = auditTrail(db, { seriesUid: '1.2.1', structure: 'Brainstem' });
  assert.deepEqual(trail.map((e) => [e.action, e.actor, e.actorKind]), [
    ['created', 'delineate', 'algorithm'],
    ['approved', 'A. Physicist', 'user'],
    ['exported', 'A. Physicist', 'user'],
  ]);
  assert.equal(trail[0]!.runId, runId);
  assert.equal(trail[0]!.localizer, 'fake-localizer');
  assert.deepEqual(trail[0]!.models.map((m) => m.name), ['fake']);
  assert.deepEqual(trail[0]!.templates, ['1.2.999']);
  assert.deepEqual(trail[1]!.detail, { comment: 'checked on MPR' });
  assert.deepEqual(trail[2]!.detail, { target: '/out/rs.dcm', sopInstanceUid: '2.25.1' });
  const states = Object.fromEntries(getResults(db, '1.2.1', 'HN').map((r) => [r.structure, [r.reviewState, r.reviewer]]));
  assert.deepEqual(states.Brainstem, ['approved', 'A. Physicist']);
  assert.deepEqual(states.SpinalCord, ['rejected', 'A. Physicist']);
  assert.deepEqual(states.Parotid_L, ['pending', '']);
});

test('the ROI description summary names backends, model hashes, templates, run and reviewer within DICOM limits', async (t) => {
  const { db, runId } = await batchDone(t);
  reviewStructure(db, { seriesUid: '1.2.1', structure: 'Brainstem', state: 'approved', reviewer: 'Dr\\Who' });
  const s = auditSummary(db, { seriesUid: '1.2.1', templateSet: 'HN', structure: 'Brainstem' });
  assert.match(s, /^Delineate fake-localizer\+fake-segmenter; models fake abababababab; templates HN \(1 scan\); created \d{4}-\d\d-\d\dT\d\d:\d\dZ run \d+; approved by Dr\?Who /);
  assert.ok(s.includes(`run ${runId}`));
  assert.ok(!s.includes('\\'), 'no backslash: it is the DICOM value delimiter');
  assert.ok(s.length <= 1024);
  assert.match(auditSummary(db, { seriesUid: '1.2.1', structure: 'Parotid_L' }), /; not reviewed$/);
  assert.equal(auditSummary(db, { seriesUid: '1.2.1', structure: 'Nothing' }), '');
  const g = generationDescription(db, { seriesUid: '1.2.1', structure: 'Brainstem' });
  assert.equal(g, `Delineate fake-localizer+fake-segmenter run ${runId}`);
  assert.ok(g.length <= 64);
});

test('a review needs a reviewer and an existing, unambiguous result', async (t) => {
  const { db } = await batchDone(t);
  assert.throws(() => reviewStructure(db, { seriesUid: '1.2.1', structure: 'Brainstem', state: 'approved', reviewer: ' ' }), /needs a reviewer/);
  assert.throws(() => reviewStructure(db, { seriesUid: '1.2.1', structure: 'Heart', state: 'approved', reviewer: 'x' }), /no result for structure Heart/);
  db.exec(`INSERT INTO template_sets (name) VALUES ('HN2')`);
  db.prepare(`INSERT INTO results (series_uid, set_id, structure) VALUES ('1.2.1', (SELECT id FROM template_sets WHERE name = 'HN2'), 'Brainstem')`).run();
  assert.throws(() => reviewStructure(db, { seriesUid: '1.2.1', structure: 'Brainstem', state: 'approved', reviewer: 'x' }), /several template sets \(HN, HN2\)/);
  reviewStructure(db, { seriesUid: '1.2.1', templateSet: 'HN2', structure: 'Brainstem', state: 'approved', reviewer: 'x' });
  // A failed review leaves no audit entry behind.
  assert.equal(auditTrail(db, { seriesUid: '1.2.1', structure: 'Heart' }).length, 0);
});
