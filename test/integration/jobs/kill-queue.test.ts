// SIGKILL at 20 random instants against the queue itself (worker threads, one-transaction commits,
// resume), with the deterministic work module: the final database equals an uninterrupted run's,
// with no duplicate rows and a sound file. kill-cli.test.ts does the same through `delineate run`
// with a real backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, REPO_ROOT } from '../../helpers/data.js';
import { dumpResults, openJobsDb, seedArchive } from '../../unit/jobs/helpers.js';
import { killLoop, killWindow, timeRun } from './kill-harness.js';

const SERIES = ['1.2.1', '1.2.2', '1.2.bad', '1.2.3', '1.2.4', '1.2.5'];
const SCRIPT = join(REPO_ROOT, 'test/integration/jobs/fixtures/fake-run.ts');

function dumpOf(file: string): unknown {
  const db = openJobsDb(file);
  try {
    return dumpResults(db);
  } finally {
    db.close();
  }
}

test('a batch killed with SIGKILL at 20 random instants ends exactly as an uninterrupted one', { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t);
  const seed = join(dir, 'seed.sqlite');
  const db0 = openJobsDb(seed);
  seedArchive(db0, SERIES);
  db0.close();

  const refFile = join(dir, 'ref.sqlite');
  copyFileSync(seed, refFile);
  const args = (file: string): string[] => ['--import', 'tsx', SCRIPT, file, 'HN', '500', ...SERIES];
  const ref = await timeRun({ args: args(refFile), cwd: REPO_ROOT });
  // The same command again on the finished run: nothing to do, so its time is start-up and exit.
  const before = dumpOf(refFile);
  const noop = await timeRun({ args: args(refFile), cwd: REPO_ROOT });
  assert.deepEqual(dumpOf(refFile), before, 'running a finished command again changes nothing');
  assert.equal(noop.stdout, ref.stdout);
  const perItem = Math.max(50, (ref.ms - noop.ms) / SERIES.length);

  const file = join(dir, 'killed.sqlite');
  copyFileSync(seed, file);
  const seedValue = Number(process.env.DELINEATE_KILL_SEED ?? Date.now() % 1_000_000);
  t.diagnostic(`kill seed ${seedValue} (DELINEATE_KILL_SEED replays it); uninterrupted run ${Math.round(ref.ms)} ms, start-up ${Math.round(noop.ms)} ms`);
  const win = killWindow(file, noop.ms, perItem);
  let leftBeforeRerun = -1;
  const res = await killLoop({ args: args(file), attempts: 20, maxDelayMs: win.window, seed: seedValue, cwd: REPO_ROOT, beforeRerun: () => (leftBeforeRerun = win.left()) });
  t.diagnostic(`${res.kills} kills, ${res.finishedBeforeKill} attempts finished before their kill, ${leftBeforeRerun} of ${SERIES.length} items left for the final rerun`);
  assert.equal(res.kills, 20, 'twenty attempts were killed');

  const out = JSON.parse(res.stdout) as { items: { seriesUid: string; status: string; error?: string }[] };
  assert.deepEqual(out, JSON.parse(ref.stdout) as unknown, 'same items, statuses and errors as the uninterrupted run');
  assert.match(out.items.find((i) => i.seriesUid === '1.2.bad')!.error!, /1\.2\.bad/);

  const a = openJobsDb(refFile);
  const b = openJobsDb(file);
  t.after(() => {
    a.close();
    b.close();
  });
  assert.deepEqual(dumpResults(b), dumpResults(a));
  assert.equal(b.pragma('integrity_check', { simple: true }), 'ok');
  const count = (sql: string): number => (b.prepare(sql).get() as { n: number }).n;
  assert.equal(count('SELECT count(*) AS n FROM runs'), 1, 'every rerun resumed the same run');
  assert.equal(count('SELECT count(*) AS n FROM run_items'), SERIES.length);
  assert.equal(count(`SELECT count(*) AS n FROM run_items WHERE status IN ('pending', 'running')`), 0);
  assert.equal(count(`SELECT count(*) AS n FROM audit WHERE action = 'created'`), count('SELECT count(*) AS n FROM results'), 'one creation entry per stored result');
  assert.equal(count(`SELECT count(*) AS n FROM (SELECT series_uid, structure FROM audit WHERE action = 'created' GROUP BY 1, 2 HAVING count(*) > 1)`), 0);
});
