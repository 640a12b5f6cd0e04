// Acceptance (issue 7): `delineate run` over 5 phantom series with the backend a fresh clone has
// (no models folder: the weight-free atlas backend), killed with SIGKILL at 20 random instants (one
// kill per attempt) and rerun until done, ends with the same results as an uninterrupted run, no
// duplicate rows and a sound database file. A series with corrupted pixel data fails alone, with
// its reason, and the others finish.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, REPO_ROOT } from '../../helpers/data.js';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { dumpResults } from '../../unit/jobs/helpers.js';
import { killLoop, killWindow, timeRun } from './kill-harness.js';
import { makeBatchArchive, STRUCTURES, TEMPLATE_SET } from './archive.js';

const BIN = join(REPO_ROOT, 'bin', 'delineate.js');

interface RunJson {
  runId: number;
  items: { seriesUid: string; status: string; error?: string }[];
}

test('delineate run survives 20 SIGKILLs: same results as an uninterrupted run, no duplicates, integrity ok; a corrupted series fails alone', { timeout: 420_000 }, async (t) => {
  const dir = tempDir(t);
  const home = join(dir, 'home');
  mkdirSync(home);
  // No models folder: the backend every fresh clone has.
  const env = { ...process.env, DELINEATE_HOME: home, DELINEATE_MODELS: join(dir, 'no-models') };
  const archive = await makeBatchArchive(join(dir, 'archive'), { count: 5, corrupt: true });
  const badUid = archive.bad!;
  const args = (db: string): string[] => [BIN, 'run', '--set', TEMPLATE_SET, '--series', ...archive.series, '--db', db, '--json'];

  const refFile = join(dir, 'ref.sqlite');
  copyFileSync(archive.dbFile, refFile);
  const refRun = await timeRun({ args: args(refFile), cwd: REPO_ROOT, env });
  const refOut = JSON.parse(refRun.stdout) as RunJson;
  // The corrupted series failed alone, with its reason; every other series finished.
  const bad = refOut.items.find((i) => i.seriesUid === badUid)!;
  assert.equal(bad.status, 'failed');
  assert.match(bad.error!, /ct\d+\.dcm/, 'the error names the file at fault');
  assert.deepEqual(refOut.items.filter((i) => i.status === 'done').map((i) => i.seriesUid), archive.series.filter((s) => s !== badUid));
  assert.match(refRun.stderr, new RegExp(`series ${badUid.replace(/\./g, '\\.')} failed: .*ct\\d+\\.dcm`), 'the failure and its reason reach stderr');

  // The same command again on the finished run: nothing to do (its time is start-up and exit).
  const noop = await timeRun({ args: args(refFile), cwd: REPO_ROOT, env });
  assert.deepEqual(JSON.parse(noop.stdout), refOut, 'running a finished command again reports the same run');
  const perItem = Math.max(100, (refRun.ms - noop.ms) / archive.series.length);

  const file = join(dir, 'killed.sqlite');
  copyFileSync(archive.dbFile, file);
  const seed = Number(process.env.DELINEATE_KILL_SEED ?? Date.now() % 1_000_000);
  t.diagnostic(`kill seed ${seed} (DELINEATE_KILL_SEED replays it); uninterrupted run ${Math.round(refRun.ms)} ms, start-up ${Math.round(noop.ms)} ms`);
  const win = killWindow(file, noop.ms, perItem);
  let leftBeforeRerun = -1;
  const res = await killLoop({ args: args(file), attempts: 20, maxDelayMs: win.window, seed, cwd: REPO_ROOT, env, beforeRerun: () => (leftBeforeRerun = win.left()) });
  t.diagnostic(`${res.kills} kills, ${res.finishedBeforeKill} attempts finished before their kill, ${leftBeforeRerun} of ${archive.series.length} items left for the final rerun`);
  assert.equal(res.kills, 20, 'twenty attempts were killed');
  const out = JSON.parse(res.stdout) as RunJson;
  assert.deepEqual(out.items, refOut.items);

  const a = openDatabase(refFile);
  const b = openDatabase(file);
  t.after(() => {
    a.close();
    b.close();
  });
  const results = dumpResults(b) as unknown[];
  assert.equal(results.length, (archive.series.length - 1) * STRUCTURES.length, 'one row per series and structure');
  assert.deepEqual(results, dumpResults(a));
  assert.equal(b.pragma('integrity_check', { simple: true }), 'ok');
  const count = (sql: string): number => (b.prepare(sql).get() as { n: number }).n;
  assert.equal(count('SELECT count(*) AS n FROM runs'), 1, 'every rerun resumed the same run');
  assert.equal(count('SELECT count(*) AS n FROM run_items'), archive.series.length);
  assert.equal(count(`SELECT count(*) AS n FROM audit WHERE action = 'created'`), results.length, 'one creation entry per stored result');
  const run = b.prepare('SELECT localizer, segmenter, models_json FROM runs').get() as { localizer: string; segmenter: string; models_json: string };
  assert.ok(run.localizer && run.segmenter, 'the run records its backends');
});
