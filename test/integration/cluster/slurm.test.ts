// Acceptance (issue 17): a one-node Slurm cluster on localhost (munged, slurmctld, slurmd with a
// generated slurm.conf in a temp folder). 6 phantom series exported in 3 shards, submitted as an
// array job; shard 1 is cancelled with scancel after its first series, reported failed with its log,
// and a second submit runs only that shard, which resumes and completes. The import gives mask for
// mask the results of a local `delineate run` of the same series; a second import adds nothing; a
// shard database altered after it finished is refused by name and nothing is imported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { tempDir, REPO_ROOT } from '../../helpers/data.js';
import { slurmUnavailable, startSlurm, type SlurmCluster } from '../../helpers/slurm.js';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { dumpResults } from '../../unit/jobs/helpers.js';
import { makeBatchArchive, TEMPLATE_SET } from '../jobs/archive.js';
import type { PackageStatus } from '../../../electron/engine/cluster/slurm.js';

const BIN = join(REPO_ROOT, 'bin', 'delineate.js');
const run = promisify(execFile);

async function cli(args: string[], env: NodeJS.ProcessEnv): Promise<unknown> {
  const { stdout } = await run(process.execPath, [BIN, ...args, '--json'], { cwd: REPO_ROOT, env, maxBuffer: 64 << 20 });
  return JSON.parse(stdout) as unknown;
}

function results(file: string): unknown {
  const db = openDatabase(file, { readonly: true });
  try {
    return dumpResults(db);
  } finally {
    db.close();
  }
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

function queuedTasks(c: SlurmCluster): string[] {
  return execFileSync('squeue', ['-h', '-r', '-o', '%i'], { env: c.env, encoding: 'utf8' }).split('\n').filter((l) => l.trim());
}

test('cluster export -> sbatch array -> scancel + resubmit -> import equals a local run; import is idempotent; a tampered shard is refused', { timeout: 420_000 }, async (t) => {
  const why = slurmUnavailable();
  if (why) {
    t.skip(`Slurm acceptance test skipped: ${why}`);
    return;
  }
  const dir = tempDir(t);
  mkdirSync(join(dir, 'home'));
  const env = { ...process.env, DELINEATE_HOME: join(dir, 'home'), DELINEATE_MODELS: join(dir, 'no-models') };
  const archive = await makeBatchArchive(join(dir, 'archive'), { count: 6 });
  const localDb = join(dir, 'local.sqlite');
  const tamperDb = join(dir, 'tamper.sqlite');
  copyFileSync(archive.dbFile, localDb);
  copyFileSync(archive.dbFile, tamperDb);
  const pkg = join(dir, 'pkg');

  const exported = (await cli(['cluster', 'export', '--set', TEMPLATE_SET, '--series', ...archive.series, '--to', pkg, '--shards', '3', '--db', archive.dbFile], env)) as {
    shards: { index: number; series: string[] }[];
  };
  assert.deepEqual(exported.shards.map((s) => s.series.length), [2, 2, 2]);

  const cluster = await startSlurm(join(dir, 'slurm'), { cpus: 2 });
  try {
    const senv = { ...env, SLURM_CONF: cluster.conf };
    // The local reference run goes on meanwhile (same series, same backend: the weight-free atlas).
    const local = cli(['run', '--set', TEMPLATE_SET, '--series', ...archive.series, '--db', localDb], env);
    const first = (await cli(['cluster', 'submit', '--package', pkg, '--cpus-per-task', '1'], senv)) as { jobId: string; shards: number[] };
    assert.deepEqual(first.shards, [0, 1, 2]);

    // Cancel shard 1 once it has committed its first series, so the resubmission must resume it.
    const shard1Db = join(pkg, 'shards', '1', 'work.sqlite');
    await waitFor('shard 1 to finish a series', 180_000, () => {
      if (!existsSync(shard1Db)) return undefined;
      const db = new Database(shard1Db, { readonly: true, fileMustExist: true });
      try {
        const n = (db.prepare(`SELECT count(*) AS n FROM run_items WHERE status = 'done'`).get() as { n: number }).n;
        return n >= 1 ? n : undefined;
      } catch {
        return undefined; // created but not yet migrated/filled
      } finally {
        db.close();
      }
    });
    execFileSync('scancel', [`${first.jobId}_1`], { env: senv });
    await waitFor('the first array job to leave the queue', 240_000, () => (queuedTasks(cluster).some((id) => id.startsWith(`${first.jobId}_`)) ? undefined : true));

    const afterCancel = (await cli(['cluster', 'status', '--package', pkg], senv)) as PackageStatus;
    assert.equal(afterCancel.state, 'failed');
    assert.deepEqual(afterCancel.shards.map((s) => [s.index, s.state]), [[0, 'done'], [1, 'failed'], [2, 'done']]);
    const cancelled = afterCancel.shards[1]!;
    assert.equal(cancelled.done, 1, 'the cancelled shard kept the series it had finished');
    assert.match(cancelled.log ?? '', /CANCELLED|cancelled/, 'a failed shard comes with its log tail');
    assert.equal(afterCancel.shards[0]!.log, undefined);

    // Import what is finished so far: shards 0 and 2; shard 1 is reported missing.
    const partial = (await cli(['cluster', 'import', '--package', pkg, '--db', archive.dbFile], env)) as { imported: number; missing: number[] };
    assert.equal(partial.imported, 4);
    assert.deepEqual(partial.missing, [1]);

    const second = (await cli(['cluster', 'submit', '--package', pkg, '--cpus-per-task', '1'], senv)) as { jobId: string; shards: number[]; skipped: { index: number }[] };
    assert.deepEqual(second.shards, [1], 'resubmission runs only the missing shard');
    assert.deepEqual(second.skipped.map((s) => s.index), [0, 2]);
    await waitFor('the resubmitted shard', 240_000, async () => {
      const s = (await cli(['cluster', 'status', '--package', pkg], senv)) as PackageStatus;
      return s.state === 'done' || (s.state === 'failed' && !queuedTasks(cluster).length) ? s : undefined;
    }).then((s) => {
      assert.equal(s.state, 'done', JSON.stringify(s));
      assert.deepEqual(s.shards.map((x) => [x.index, x.state, x.series, x.done, x.failed]), [[0, 'done', 2, 2, 0], [1, 'done', 2, 2, 0], [2, 'done', 2, 2, 0]]);
    });
    const resumed = new Database(shard1Db, { readonly: true });
    const attempts = resumed.prepare('SELECT attempts FROM run_items ORDER BY position').all() as { attempts: number }[];
    resumed.close();
    assert.equal(attempts[0]!.attempts, 1, 'the series finished before the cancel was not redone');

    const rest = (await cli(['cluster', 'import', '--package', pkg, '--db', archive.dbFile], env)) as { imported: number; already: number };
    assert.deepEqual([rest.imported, rest.already], [2, 4]);
    const again = (await cli(['cluster', 'import', '--package', pkg, '--db', archive.dbFile], env)) as { imported: number; already: number };
    assert.deepEqual([again.imported, again.already], [0, 6]);

    const localOut = (await local) as { items: { status: string }[] };
    assert.ok(localOut.items.every((i) => i.status === 'done'));
    const mine = results(archive.dbFile) as unknown[];
    assert.equal(mine.length, 6 * 3);
    assert.deepEqual(mine, results(localDb), 'cluster results equal the local run, mask for mask');

    const db = openDatabase(archive.dbFile, { readonly: true });
    const hosts = db.prepare(`SELECT DISTINCT json_extract(detail_json, '$.host') AS host, json_extract(detail_json, '$.job') AS job FROM audit WHERE action = 'created'`).all() as {
      host: string;
      job: string;
    }[];
    const rows = (db.prepare('SELECT count(*) AS n FROM audit').get() as { n: number }).n;
    db.close();
    assert.ok(hosts.length >= 3 && hosts.every((h) => typeof h.host === 'string' && h.host.length > 0 && /^slurm:\d+_\d$/.test(h.job)), JSON.stringify(hosts));
    assert.equal(rows, 18, 'one created entry per structure, none added by the second import');

    // A shard database changed after it finished is refused by name; nothing is imported.
    const w = new Database(join(pkg, 'shards', '2', 'work.sqlite'));
    w.prepare('UPDATE results SET confidence = 0.99').run();
    w.close();
    await assert.rejects(cli(['cluster', 'import', '--package', pkg, '--db', tamperDb], env), (e: Error & { stderr?: string }) => {
      assert.match(e.stderr ?? '', /shard 2: its database .*work\.sqlite does not match the sha256/);
      return true;
    });
    assert.deepEqual(results(tamperDb), []);
  } finally {
    for (const id of queuedTasks(cluster)) execFileSync('scancel', [id], { env: cluster.env });
    await cluster.stop();
  }
});
