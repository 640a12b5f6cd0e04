// Ctrl-C during `delineate run`: the AbortSignal reaches the backend working in the worker thread,
// the command stops with a message saying how to resume, the database holds no half-done item, and
// the same command then finishes the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { tempDir, REPO_ROOT } from '../../helpers/data.js';
import { openJobsDb } from '../../unit/jobs/helpers.js';
import { timeRun } from './kill-harness.js';
import { makeBatchArchive, STRUCTURES, TEMPLATE_SET } from './archive.js';

const BIN = join(REPO_ROOT, 'bin', 'delineate.js');

test('Ctrl-C stops a run cleanly and the same command resumes it', { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t);
  const home = join(dir, 'home');
  mkdirSync(home);
  const env = { ...process.env, DELINEATE_HOME: home, DELINEATE_MODELS: join(dir, 'no-models') };
  const archive = await makeBatchArchive(join(dir, 'archive'), { count: 3 });
  const args = [BIN, 'run', '--set', TEMPLATE_SET, '--series', ...archive.series, '--db', archive.dbFile, '--json'];

  const stopped = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // Interrupt while the second series is being computed (the first one is committed by then).
      if (!sent && /series \S+ done/.test(stderr)) {
        sent = true;
        setTimeout(() => child.kill('SIGINT'), 300);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  assert.equal(stopped.code, 1, stopped.stderr);
  assert.equal(stopped.stdout, '', 'no JSON document for a run that did not finish');
  assert.match(stopped.stderr, /run 1 of template set 'Phantom' was cancelled; run the same command again to resume it/);

  const db = openJobsDb(archive.dbFile);
  const items = db.prepare('SELECT status FROM run_items ORDER BY position').all() as { status: string }[];
  assert.ok(items.every((i) => i.status === 'done' || i.status === 'pending'), `no item left running: ${JSON.stringify(items)}`);
  const done = items.filter((i) => i.status === 'done').length;
  assert.ok(done >= 1 && done < archive.series.length, `stopped part-way (${done} done)`);
  assert.equal((db.prepare('SELECT count(*) AS n FROM results').get() as { n: number }).n, done * STRUCTURES.length, 'results only for finished series');
  assert.deepEqual(db.prepare('SELECT status, lease_owner FROM runs').get(), { status: 'cancelled', lease_owner: null });
  db.close();

  const resumed = await timeRun({ args, cwd: REPO_ROOT, env });
  const out = JSON.parse(resumed.stdout) as { runId: number; items: { status: string }[] };
  assert.equal(out.runId, 1);
  assert.deepEqual(out.items.map((i) => i.status), archive.series.map(() => 'done'));
  assert.ok(resumed.stderr.includes(`run 1 (Phantom): 3 series, resuming with ${done} finished`), resumed.stderr);
});
