// `delineate review ...` and the argument checks of `delineate run`, in process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cliInProcess } from '../../helpers/cli.js';
import { createOrFindRun } from '../../../electron/engine/jobs/runs.js';
import { runBatch } from '../../../electron/engine/jobs/runner.js';
import { InlineExecutor } from '../../../electron/engine/jobs/executor.js';
import { auditTrail } from '../../../electron/engine/audit/audit.js';
import { tempDir } from '../../helpers/data.js';
import { fakeWork, openJobsDb, seedArchive } from './helpers.js';

const cli = cliInProcess;

async function seeded(t: import('node:test').TestContext): Promise<string> {
  const file = join(tempDir(t), 'db.sqlite');
  const db = openJobsDb(file);
  seedArchive(db, ['1.2.1']);
  const { run } = createOrFindRun(db, { templateSet: 'HN', series: ['1.2.1'] });
  await runBatch({ db, runId: run.id, executor: new InlineExecutor(db, fakeWork()) });
  db.close();
  return file;
}

test('review approve and reject print one JSON document and are audited', async (t) => {
  const file = await seeded(t);
  const a = await cli(['review', 'approve', '--series', '1.2.1', '--structure', 'Brainstem', '--reviewer', 'A. Physicist', '--db', file, '--json']);
  assert.equal(a.code, 0, a.err);
  const doc = (JSON.parse(a.out) as { reviews: Record<string, unknown>[] }).reviews[0]!;
  assert.deepEqual({ ...doc, resultId: typeof doc.resultId }, {
    seriesUid: '1.2.1', templateSet: 'HN', structure: 'Brainstem', reviewState: 'approved', reviewer: 'A. Physicist', resultId: 'number',
  });
  const r = await cli(['review', 'reject', '--series', '1.2.1', '--structure', 'SpinalCord', '--reviewer', 'B', '--set', 'HN', '--db', file, '--json']);
  assert.equal(r.code, 0, r.err);
  const missing = await cli(['review', 'approve', '--series', '1.2.1', '--structure', 'Heart', '--reviewer', 'B', '--db', file, '--json']);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /series 1\.2\.1 has no result for structure Heart/);
  assert.equal(missing.out, '');
  const db = openJobsDb(file);
  t.after(() => db.close());
  assert.deepEqual(auditTrail(db, { seriesUid: '1.2.1' }).filter((e) => e.actorKind === 'user').map((e) => [e.structure, e.action, e.actor]), [
    ['Brainstem', 'approved', 'A. Physicist'],
    ['SpinalCord', 'rejected', 'B'],
  ]);
});

test('run refuses unclear requests before touching anything', async (t) => {
  const file = await seeded(t);
  const both = await cli(['run', '--set', 'HN', '--series', '1.2.1', '--all', '--db', file, '--json']);
  assert.equal(both.code, 2, 'a usage error');
  assert.match(both.err, /--series or --all is required \(not both\)/);
  const mode = await cli(['run', '--set', 'HN', '--all', '--mode', 'xyz', '--db', file, '--json']);
  assert.equal(mode.code, 2);
  assert.match(mode.err, /--mode must be wpl or spl/);
  const set = await cli(['run', '--set', 'Nope', '--all', '--db', file, '--json']);
  assert.equal(set.code, 1);
  assert.match(set.err, /template set 'Nope' does not exist/);
  const series = await cli(['run', '--set', 'HN', '--series', '9.9', '--db', file, '--json']);
  assert.match(series.err, /series 9\.9 is not in the archive/);
  const db = openJobsDb(file);
  t.after(() => db.close());
  assert.deepEqual(db.prepare('SELECT count(*) AS n FROM runs').get(), { n: 1 }, 'only the seeded run exists');
});

test('review approve over several series is all or nothing', async (t) => {
  const file = join(tempDir(t), 'db.sqlite');
  const db = openJobsDb(file);
  seedArchive(db, ['1.2.1', '1.2.2', '1.2.3']);
  const { run } = createOrFindRun(db, { templateSet: 'HN', series: ['1.2.1', '1.2.2'] });
  await runBatch({ db, runId: run.id, executor: new InlineExecutor(db, fakeWork()) });
  db.close();
  // 1.2.3 has no results: nothing is approved anywhere.
  const partial = await cli(['review', 'approve', '--series', '1.2.1', '1.2.3', '--structure', 'Brainstem', '--reviewer', 'A', '--db', file, '--json']);
  assert.equal(partial.code, 1);
  assert.match(partial.err, /series 1\.2\.3 has no result for structure Brainstem/);
  const ok = await cli(['review', 'approve', '--series', '1.2.1', '1.2.2', '--structure', 'Brainstem', '--reviewer', 'A', '--db', file, '--json']);
  assert.equal(ok.code, 0, ok.err);
  assert.deepEqual((JSON.parse(ok.out) as { reviews: { seriesUid: string }[] }).reviews.map((r) => r.seriesUid), ['1.2.1', '1.2.2']);
  const check = openJobsDb(file);
  t.after(() => check.close());
  assert.deepEqual(
    check.prepare(`SELECT series_uid, review_state FROM results WHERE structure = 'Brainstem' ORDER BY series_uid`).all(),
    [{ series_uid: '1.2.1', review_state: 'approved' }, { series_uid: '1.2.2', review_state: 'approved' }],
  );
  assert.equal((check.prepare(`SELECT count(*) AS n FROM audit WHERE action = 'approved'`).get() as { n: number }).n, 2);
});
