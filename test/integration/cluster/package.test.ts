// Work packages without a scheduler (runs where Slurm cannot start): export, `cluster work` in this
// process, verified import. Guards: the checksum of every input, the backend/model check on the node,
// a changed manifest, a reviewed structure in the archive, idempotency, migration 5 -> 6.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/data.js';
import { migrate, openDatabase, schemaVersion } from '../../../electron/engine/store/db.js';
import { MIGRATIONS } from '../../../electron/engine/store/migrations/index.js';
import { m007Cluster } from '../../../electron/engine/store/migrations/007_cluster.js';
import { exportPackage } from '../../../electron/engine/cluster/export.js';
import { workShard } from '../../../electron/engine/cluster/work.js';
import { importPackage } from '../../../electron/engine/cluster/merge.js';
import { packageStatus, sbatchScript } from '../../../electron/engine/cluster/slurm.js';
import { readManifest } from '../../../electron/engine/cluster/package.js';
import { getResults, setReviewState } from '../../../electron/engine/store/results.js';
import { makeBatchArchive, TEMPLATE_SET } from '../jobs/archive.js';

test('migration 5 -> 6 keeps the archive and adds cluster_imports keyed by (package, series)', (t) => {
  const db = openDatabase(join(tempDir(t), 'db.sqlite'), { targetVersion: m007Cluster.version - 1 });
  t.after(() => db.close());
  db.prepare(`INSERT INTO patients (patient_id) VALUES ('P1')`).run();
  db.prepare(`INSERT INTO studies (study_uid, patient_ref) VALUES ('1.2', 1)`).run();
  migrate(db, m007Cluster.version);
  assert.equal(schemaVersion(db), MIGRATIONS.indexOf(m007Cluster) + 1);
  assert.deepEqual(db.prepare('SELECT count(*) AS n FROM studies').get(), { n: 1 });
  const ins = db.prepare(`INSERT INTO cluster_imports (package_id, series_uid, template_set, shard, host, structures) VALUES ('p', '1.2.3', 'S', 0, 'node1', 3)`);
  ins.run();
  assert.throws(() => ins.run(), /UNIQUE/);
});

test('export -> work (in process) -> import: checksums, backend check, manifest check, reviewed results kept, idempotent', { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t);
  const archive = await makeBatchArchive(join(dir, 'archive'), { count: 2 });
  const db = openDatabase(archive.dbFile);
  t.after(() => db.close());
  const pkg = join(dir, 'pkg');
  const ex = await exportPackage(db, { templateSet: TEMPLATE_SET, series: archive.series, dir: pkg, shards: 2, backend: 'atlas' });
  assert.deepEqual(ex.shards.map((s) => s.series.length), [1, 1]);
  await assert.rejects(exportPackage(db, { templateSet: TEMPLATE_SET, series: archive.series, dir: pkg, shards: 1 }), /exists and is not empty/);

  // A damaged input file is named before any work starts.
  const manifestFile = join(pkg, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { shards: { series: { files: string[] }[] }[]; backend: { models: unknown[] } };
  const victim = join(pkg, manifest.shards[1]!.series[0]!.files[3]!);
  const original = readFileSync(victim);
  writeFileSync(victim, Buffer.concat([original.subarray(0, 200), Buffer.alloc(original.length - 200)]));
  await assert.rejects(workShard({ dir: pkg, shard: 1 }), (e: Error) => e.message.includes(victim) && /checksum/.test(e.message));
  writeFileSync(victim, original);

  const r0 = await workShard({ dir: pkg, shard: 0 });
  assert.equal(r0.done, 1);
  assert.equal((await workShard({ dir: pkg, shard: 0 })).skipped, true, 'a finished shard is not redone');

  // Never submitted: status comes from the package alone (no squeue call).
  const st = await packageStatus(pkg);
  assert.deepEqual(st, {
    state: 'pending',
    shards: [
      { index: 0, state: 'done', series: 1, done: 1, failed: 0 },
      { index: 1, state: 'pending', series: 1, done: 0, failed: 0 },
    ],
  });
  const script = sbatchScript(pkg, readManifest(pkg).manifest, [1], { partition: 'cpu', cpusPerTask: 4, mem: '8G', time: '1:00:00' });
  for (const line of ['#SBATCH --array=1', `#SBATCH --output=${join(pkg, 'logs', 'shard-%a.log')}`, '#SBATCH --partition=cpu', '#SBATCH --cpus-per-task=4', '#SBATCH --mem=8G', '#SBATCH --time=1:00:00']) {
    assert.ok(script.split('\n').includes(line), `${line} in\n${script}`);
  }
  assert.match(script, /cluster work --package \S+ --shard "\$SLURM_ARRAY_TASK_ID" --workers 2$/m);

  // Shard 1 is not finished: the import takes shard 0 and names 1 as missing.
  const first = importPackage(db, pkg);
  assert.deepEqual([first.imported, first.missing], [1, [1]]);
  const s0 = ex.shards[0]!.series[0]!;
  const audit = db.prepare(`SELECT detail_json FROM audit WHERE series_uid = ? AND action = 'created'`).all(s0) as { detail_json: string }[];
  assert.equal(audit.length, 3);
  assert.ok(audit.every((a) => (JSON.parse(a.detail_json) as { host?: string; shard?: number }).shard === 0));

  // A planner approves a structure of shard 1's series in the archive before shard 1 is imported
  // (from a local run): the import must not overwrite it.
  const s1 = ex.shards[1]!.series[0]!;
  const r1 = await workShard({ dir: pkg, shard: 1 });
  assert.equal(r1.done, 1);
  db.prepare(`INSERT INTO results (series_uid, set_id, structure, review_state, reviewer) SELECT ?, id, 'Liver', 'approved', 'jdoe' FROM template_sets WHERE name = ?`).run(s1, TEMPLATE_SET);
  const second = importPackage(db, pkg);
  assert.deepEqual([second.imported, second.already, second.conflicts], [0, 1, 1]);
  assert.equal(getResults(db, s1, TEMPLATE_SET).find((r) => r.structure === 'Liver')!.reviewer, 'jdoe');
  setReviewState(db, getResults(db, s1, TEMPLATE_SET)[0]!.id, 'pending', '');
  const third = importPackage(db, pkg);
  assert.deepEqual([third.imported, third.already], [1, 1]);
  assert.equal(getResults(db, s1, TEMPLATE_SET).filter((r) => r.hasMask).length, 3);
  const fourth = importPackage(db, pkg);
  assert.deepEqual([fourth.imported, fourth.already], [0, 2]);

  // A changed manifest: both shards were processed from another one, refused by name.
  writeFileSync(manifestFile, readFileSync(manifestFile, 'utf8').replace('"mode": "wpl"', '"mode": "spl"'));
  assert.throws(() => importPackage(db, pkg), /shard 0: it was processed from a different manifest.*shard 1:/);

  // A node whose backends differ from the package's refuses before processing anything.
  const other = join(dir, 'pkg2');
  await exportPackage(db, { templateSet: TEMPLATE_SET, series: archive.series, dir: other, shards: 1, backend: 'atlas' });
  const m2 = JSON.parse(readFileSync(join(other, 'manifest.json'), 'utf8')) as typeof manifest;
  m2.backend.models = [{ name: 'medsam_vit_b', sha256: 'f'.repeat(64) }];
  writeFileSync(join(other, 'manifest.json'), JSON.stringify(m2));
  await assert.rejects(workShard({ dir: other, shard: 0 }), /backends here \(atlas\+atlas \[\]\) differ from the package's/);
  const items = openDatabase(join(other, 'shards', '0', 'work.sqlite'), { readonly: true });
  const done = (items.prepare(`SELECT count(*) AS n FROM results`).get() as { n: number }).n;
  items.close();
  assert.equal(done, 0);
});

test('a shard with a failed series finishes as failed; --retry-failed runs that series again', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const archive = await makeBatchArchive(join(dir, 'archive'), { count: 0, corrupt: true });
  const db = openDatabase(archive.dbFile);
  t.after(() => db.close());
  const pkg = join(dir, 'pkg');
  await exportPackage(db, { templateSet: TEMPLATE_SET, series: [archive.bad!], dir: pkg, shards: 1, backend: 'atlas' });
  const first = await workShard({ dir: pkg, shard: 0 });
  assert.deepEqual([first.done, first.failed], [0, 1]);
  assert.match(first.items[0]!.error ?? '', /ct\d+\.dcm/, 'the failure names the file');
  assert.equal((await workShard({ dir: pkg, shard: 0 })).skipped, true);
  assert.equal((await packageStatus(pkg)).state, 'failed');
  const again = await workShard({ dir: pkg, shard: 0, retryFailed: true });
  assert.equal(again.skipped, false);
  assert.equal(again.failed, 1);
  const w = openDatabase(join(pkg, 'shards', '0', 'work.sqlite'), { readonly: true });
  const attempts = (w.prepare('SELECT attempts FROM run_items').get() as { attempts: number }).attempts;
  w.close();
  assert.equal(attempts, 2);
  const imported = importPackage(db, pkg);
  assert.deepEqual([imported.imported, imported.failed], [0, 1]);
});
