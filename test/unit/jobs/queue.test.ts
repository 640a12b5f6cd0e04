import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createOrFindRun, listItems, getRun, acquireRun, claimNextItem, newLeaseOwner, itemCounts } from '../../../electron/engine/jobs/runs.js';
import { runBatch } from '../../../electron/engine/jobs/runner.js';
import { InlineExecutor } from '../../../electron/engine/jobs/executor.js';
import { commitItemSuccess } from '../../../electron/engine/jobs/commit.js';
import type { RunEvent } from '../../../electron/engine/jobs/types.js';
import { tempDir } from '../../helpers/data.js';
import { dumpResults, fakeOutput, fakeWork, openJobsDb, seedArchive, STRUCTURES } from './helpers.js';

const SERIES = ['1.2.1', '1.2.2', '1.2.3', '1.2.4', '1.2.5'];

function setup(t: import('node:test').TestContext, series = SERIES) {
  const db = openJobsDb(join(tempDir(t), 'db.sqlite'));
  seedArchive(db, series);
  t.after(() => db.close());
  return db;
}

test('a run and all of its items are stored before any work; the same request finds the same run', (t) => {
  const db = setup(t);
  const { run, resumed } = createOrFindRun(db, { templateSet: 'HN', series: [...SERIES].reverse() });
  assert.equal(resumed, false);
  assert.equal(run.status, 'pending');
  const items = listItems(db, run.id);
  assert.deepEqual(items.map((i) => i.seriesUid), [...SERIES].reverse(), 'items keep the order given');
  assert.ok(items.every((i) => i.status === 'pending' && i.attempts === 0));
  // Same set and series in another order: the same run (resume), not a second one.
  const again = createOrFindRun(db, { templateSet: 'HN', series: SERIES });
  assert.equal(again.run.id, run.id);
  assert.equal(again.resumed, true);
  assert.notEqual(createOrFindRun(db, { templateSet: 'HN', series: SERIES, fresh: true }).run.id, run.id);
  assert.throws(() => createOrFindRun(db, { templateSet: 'HN', series: ['9.9.9'] }), /series 9\.9\.9 is not in the archive/);
  assert.throws(() => createOrFindRun(db, { templateSet: 'nope', series: SERIES }), /template set 'nope'/);
});

test('--all takes every CT series except the set\'s own templates, and later the ones imported since', async (t) => {
  const db = setup(t);
  const { run } = createOrFindRun(db, { templateSet: 'HN', series: 'all' });
  assert.deepEqual(listItems(db, run.id).map((i) => i.seriesUid), SERIES);
  await runBatch({ db, runId: run.id, executor: new InlineExecutor(db, fakeWork()) });
  seedArchive(db, ['1.2.6']);
  const again = createOrFindRun(db, { templateSet: 'HN', series: 'all' });
  assert.equal(again.run.id, run.id);
  assert.deepEqual(listItems(db, run.id).map((i) => [i.seriesUid, i.status]), [...SERIES.map((s) => [s, 'done']), ['1.2.6', 'pending']]);
  const res = await runBatch({ db, runId: run.id, executor: new InlineExecutor(db, fakeWork()) });
  assert.deepEqual(res.items.map((i) => i.attempts), [1, 1, 1, 1, 1, 1], 'only the new series was processed');
});

test('a batch commits every item with its results, audit entries and backends; one failing series fails alone', async (t) => {
  const series = [...SERIES, '1.2.bad'];
  const db = setup(t, series);
  const { run } = createOrFindRun(db, { templateSet: 'HN', series });
  const events: RunEvent[] = [];
  const res = await runBatch({ db, runId: run.id, executor: new InlineExecutor(db, fakeWork()), onEvent: (e) => events.push(e) });
  assert.equal(res.status, 'done');
  const bad = res.items.find((i) => i.seriesUid === '1.2.bad')!;
  assert.equal(bad.status, 'failed');
  assert.match(bad.error!.message, /pixel data of series 1\.2\.bad is truncated/);
  assert.equal(bad.error!.code, 'bad-input');
  assert.deepEqual(res.items.filter((i) => i.status === 'done').map((i) => i.seriesUid), SERIES);
  assert.equal((db.prepare('SELECT count(*) AS n FROM results').get() as { n: number }).n, SERIES.length * STRUCTURES.length);
  assert.equal((db.prepare(`SELECT count(*) AS n FROM results WHERE series_uid = '1.2.bad'`).get() as { n: number }).n, 0);
  assert.equal((db.prepare(`SELECT count(*) AS n FROM audit WHERE action = 'created' AND run_id = ?`).get(run.id) as { n: number }).n, SERIES.length * STRUCTURES.length);
  const stored = getRun(db, run.id);
  assert.equal(stored.localizer, 'fake-localizer');
  assert.deepEqual(stored.models.map((m) => m.name), ['fake']);
  assert.ok(stored.finishedAt);
  // Events: started, backends, then per item started/finished, and a final run-finished.
  assert.equal(events[0]!.type, 'run-started');
  assert.equal(events.at(-1)!.type, 'run-finished');
  assert.equal(events.filter((e) => e.type === 'item-finished').length, series.length);
  const prog = events.filter((e): e is Extract<RunEvent, { type: 'run-progress' }> => e.type === 'run-progress');
  assert.equal(prog[0]!.etaMs, null, 'no ETA before any item finished');
  assert.ok(prog.slice(1).every((p) => p.etaMs !== null));
  assert.deepEqual(prog.map((p) => p.done + p.failed), [0, 1, 2, 3, 4, 5, 6]);
  // Running the finished command again changes nothing.
  const before = dumpResults(db);
  const again = createOrFindRun(db, { templateSet: 'HN', series });
  assert.equal(again.run.id, run.id);
  await runBatch({ db, runId: run.id, executor: new InlineExecutor(db, fakeWork()) });
  assert.deepEqual(dumpResults(db), before);
});

test('an item claimed by a killed process is redone once on resume: results equal an uninterrupted run, no duplicates', async (t) => {
  const clean = setup(t);
  const r0 = createOrFindRun(clean, { templateSet: 'HN', series: SERIES }).run;
  await runBatch({ db: clean, runId: r0.id, executor: new InlineExecutor(clean, fakeWork()) });

  const db = setup(t);
  const { run } = createOrFindRun(db, { templateSet: 'HN', series: SERIES });
  // A "previous process" took the lease, finished two items, and died holding a third.
  const dead = `${(await import('node:os')).hostname()}:999999999:dead`;
  acquireRun(db, run.id, dead);
  for (let k = 0; k < 2; k++) {
    const item = claimNextItem(db, run.id)!;
    commitItemSuccess(db, { runId: run.id, itemId: item.id, seriesUid: item.seriesUid, templateSet: 'HN', mode: 'wpl' }, fakeOutput({ runId: run.id, itemId: item.id, seriesUid: item.seriesUid, templateSet: 'HN', mode: 'wpl' }), 1);
  }
  const held = claimNextItem(db, run.id)!;
  assert.equal(itemCounts(db, run.id).running, 1);
  const res = await runBatch({ db, runId: run.id, executor: new InlineExecutor(db, fakeWork()) });
  assert.equal(res.status, 'done');
  assert.equal(res.items.find((i) => i.id === held.id)!.attempts, 2, 'the held item was redone');
  assert.deepEqual(res.items.map((i) => i.attempts), [1, 1, 2, 1, 1], 'finished items were not redone');
  assert.deepEqual(dumpResults(db), dumpResults(clean));
  assert.equal((db.prepare(`SELECT count(*) AS n FROM audit WHERE action = 'created'`).get() as { n: number }).n, SERIES.length * STRUCTURES.length, 'one audit entry per structure');
});

test('a commit for an item that is no longer claimed stores nothing', (t) => {
  const db = setup(t);
  const { run } = createOrFindRun(db, { templateSet: 'HN', series: SERIES });
  const item = listItems(db, run.id)[0]!;
  const task = { runId: run.id, itemId: item.id, seriesUid: item.seriesUid, templateSet: 'HN', mode: 'wpl' as const };
  assert.throws(() => commitItemSuccess(db, task, fakeOutput(task), 1), /no longer claimed/);
  assert.equal((db.prepare('SELECT count(*) AS n FROM results').get() as { n: number }).n, 0);
  assert.equal((db.prepare('SELECT count(*) AS n FROM audit').get() as { n: number }).n, 0);
});

test('cancel stops the run with the database consistent; the next call resumes it', async (t) => {
  const db = setup(t);
  const { run } = createOrFindRun(db, { templateSet: 'HN', series: SERIES });
  const controller = new AbortController();
  const res = await runBatch({
    db,
    runId: run.id,
    executor: new InlineExecutor(db, fakeWork({ delayMs: 40 })),
    signal: controller.signal,
    onEvent: (e) => {
      // Cancel while the third item is being computed.
      if (e.type === 'item-progress' && e.seriesUid === SERIES[2] && e.progress.done === 1) controller.abort();
    },
  });
  assert.equal(res.status, 'cancelled');
  const c = itemCounts(db, run.id);
  assert.deepEqual({ done: c.done, running: c.running, pending: c.pending }, { done: 2, running: 0, pending: 3 });
  assert.equal((db.prepare('SELECT count(*) AS n FROM results').get() as { n: number }).n, 2 * STRUCTURES.length);
  assert.equal(getRun(db, run.id).status, 'cancelled');
  const again = await runBatch({ db, runId: run.id, executor: new InlineExecutor(db, fakeWork()) });
  assert.equal(again.status, 'done');
  assert.equal((db.prepare('SELECT count(*) AS n FROM results').get() as { n: number }).n, SERIES.length * STRUCTURES.length);
});

test('a run held by a live process is refused with its owner named', (t) => {
  const db = setup(t);
  const { run } = createOrFindRun(db, { templateSet: 'HN', series: SERIES });
  const owner = newLeaseOwner(); // this very process: alive
  acquireRun(db, run.id, owner);
  assert.throws(() => acquireRun(db, run.id, newLeaseOwner()), (e: Error) => e.message.includes(owner) && /being processed/.test(e.message));
});

test('failed items stay failed on resume unless retried', async (t) => {
  const db = setup(t, ['1.2.1', '1.2.bad']);
  const { run } = createOrFindRun(db, { templateSet: 'HN', series: ['1.2.1', '1.2.bad'] });
  await runBatch({ db, runId: run.id, executor: new InlineExecutor(db, fakeWork()) });
  const again = await runBatch({ db, runId: run.id, executor: new InlineExecutor(db, fakeWork()) });
  assert.equal(again.items[1]!.attempts, 1);
  const retried = await runBatch({ db, runId: run.id, executor: new InlineExecutor(db, fakeWork()), retryFailed: true });
  assert.equal(retried.items[1]!.attempts, 2);
  assert.equal(retried.items[1]!.status, 'failed');
});
