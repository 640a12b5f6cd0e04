// The worker-thread executor: items computed and committed in worker threads, a worker that dies
// mid-item fails that item alone, a backend that cannot load stops the run with its reason and
// leaves it resumable. The work module is the queue tests' deterministic one (not a backend).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createOrFindRun, itemCounts, getRun } from '../../../electron/engine/jobs/runs.js';
import { runBatch } from '../../../electron/engine/jobs/runner.js';
import { WorkerExecutor } from '../../../electron/engine/jobs/pool.js';
import { InlineExecutor } from '../../../electron/engine/jobs/executor.js';
import { tempDir } from '../../helpers/data.js';
import { dumpResults, fakeWork, openJobsDb, seedArchive, STRUCTURES } from '../../unit/jobs/helpers.js';

const WORK = new URL('../../unit/jobs/helpers.ts', import.meta.url);
const SERIES = ['1.2.1', '1.2.2', '1.2.3', '1.2.4', '1.2.5'];

function setup(t: import('node:test').TestContext, series = SERIES) {
  const file = join(tempDir(t), 'db.sqlite');
  const db = openJobsDb(file);
  seedArchive(db, series);
  t.after(() => db.close());
  return { db, file };
}

test('two worker threads run a batch; results equal the inline run; a worker crash fails only its series', async (t) => {
  // The crash comes early, so the slot's replacement worker has items left to run.
  const series = [SERIES[0]!, '1.2.crash', ...SERIES.slice(1)];
  const ref = setup(t, series);
  const r0 = createOrFindRun(ref.db, { templateSet: 'HN', series: SERIES }).run;
  await runBatch({ db: ref.db, runId: r0.id, executor: new InlineExecutor(ref.db, fakeWork()) });

  const { db, file } = setup(t, series);
  const { run } = createOrFindRun(db, { templateSet: 'HN', series });
  const executor = new WorkerExecutor({ db, workers: 2, workModule: WORK, options: { dbPath: file, extra: { crashOn: '1.2.crash', delayMs: 20 } } });
  const res = await runBatch({ db, runId: run.id, executor });
  assert.equal(res.status, 'done');
  const crashed = res.items.find((i) => i.seriesUid === '1.2.crash')!;
  assert.equal(crashed.status, 'failed');
  assert.match(crashed.error!.message, /worker stopped while processing series 1\.2\.crash/);
  assert.deepEqual(res.items.filter((i) => i.status === 'done').map((i) => i.seriesUid).sort(), SERIES);
  assert.deepEqual(dumpResults(db), dumpResults(ref.db));
  assert.equal((db.prepare('SELECT count(*) AS n FROM results').get() as { n: number }).n, SERIES.length * STRUCTURES.length);
  assert.equal(getRun(db, run.id).localizer, 'fake-localizer');
});

test('backends that cannot load stop the run with the reason; items stay pending for a resume', async (t) => {
  const { db, file } = setup(t);
  const { run } = createOrFindRun(db, { templateSet: 'HN', series: SERIES });
  const executor = new WorkerExecutor({ db, workModule: WORK, options: { dbPath: file, extra: { failInit: true } } });
  await assert.rejects(runBatch({ db, runId: run.id, executor }), /models folder \/nowhere has no manifest\.json/);
  assert.equal(itemCounts(db, run.id).pending, SERIES.length);
  assert.equal(getRun(db, run.id).status, 'pending');
});

test('cancel reaches the work running in the worker; the database stays consistent', async (t) => {
  const { db, file } = setup(t);
  const { run } = createOrFindRun(db, { templateSet: 'HN', series: SERIES });
  const controller = new AbortController();
  const executor = new WorkerExecutor({ db, workModule: WORK, options: { dbPath: file, extra: { delayMs: 400 } } });
  const res = await runBatch({
    db,
    runId: run.id,
    executor,
    signal: controller.signal,
    onEvent: (e) => {
      if (e.type === 'item-progress' && e.seriesUid === SERIES[1]) controller.abort();
    },
  });
  assert.equal(res.status, 'cancelled');
  const c = itemCounts(db, run.id);
  assert.equal(c.running, 0);
  assert.equal(c.done, 1);
  assert.equal((db.prepare('SELECT count(*) AS n FROM results').get() as { n: number }).n, STRUCTURES.length);
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
});
