// SIGKILL at 20 random instants against the queue itself (worker threads, one-transaction commits,
// resume), with the deterministic work module: the final database equals an uninterrupted run's,
// with no duplicate rows and a sound file. kill-cli.test.ts does the same through `delineate run`
// with a real backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { tempDir, REPO_ROOT } from '../../helpers/data.js';
import { dumpResults, openJobsDb, seedArchive } from '../../unit/jobs/helpers.js';
import { killLoop, killWindow } from './kill-harness.js';

const SERIES = ['1.2.1', '1.2.2', '1.2.bad', '1.2.3', '1.2.4', '1.2.5'];
const SCRIPT = join(REPO_ROOT, 'test/integration/jobs/fixtures/fake-run.ts');

test('a batch killed with SIGKILL at 20 random instants ends exactly as an uninterrupted one', { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t);
  const seed = join(dir, 'seed.sqlite');
  const db0 = openJobsDb(seed);
  seedArchive(db0, SERIES);
  db0.close();

  const refFile = join(dir, 'ref.sqlite');
  copyFileSync(seed, refFile);
  const args = (file: string): string[] => ['--import', 'tsx', SCRIPT, file, 'HN', '500', ...SERIES];
  const t0 = performance.now();
  const ref = spawnSync(process.execPath, args(refFile), { cwd: REPO_ROOT, encoding: 'utf8' });
  const uninterruptedMs = performance.now() - t0;
  assert.equal(ref.status, 0, ref.stderr);

  const file = join(dir, 'killed.sqlite');
  copyFileSync(seed, file);
  const seedValue = Number(process.env.DELINEATE_KILL_SEED ?? Date.now() % 1_000_000);
  t.diagnostic(`kill seed ${seedValue} (DELINEATE_KILL_SEED replays it); uninterrupted run ${Math.round(uninterruptedMs)} ms`);
  const win = killWindow(refFile, file, uninterruptedMs);
  let leftBeforeRerun = -1;
  const res = await killLoop({ args: args(file), attempts: 20, maxDelayMs: win.window, seed: seedValue, cwd: REPO_ROOT, beforeRerun: () => (leftBeforeRerun = win.left()) });
  t.diagnostic(`${res.kills} kills, ${res.finishedBeforeKill} attempts finished before their kill, ${leftBeforeRerun} of ${SERIES.length} items left for the final rerun`);
  assert.ok(res.kills > 0, 'at least one attempt was killed');

  const out = JSON.parse(res.stdout) as { items: { seriesUid: string; status: string; error?: string }[] };
  assert.deepEqual(out, JSON.parse(ref.stdout), 'same items, statuses and errors as the uninterrupted run');
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
