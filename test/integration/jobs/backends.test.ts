// Backend choice (electron/engine/backends.ts) with the tiny fixture models, and a batch through the
// worker threads with MedLAM + MedSAM recording the model hashes on the run and in the audit trail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, tempDir } from '../../helpers/data.js';
import { modelsStatus, selectBackends } from '../../../electron/engine/backends.js';
import { startBatch } from '../../../electron/engine/jobs/batch.js';
import { getRun } from '../../../electron/engine/jobs/runs.js';
import { auditTrail } from '../../../electron/engine/audit/audit.js';
import { getResults } from '../../../electron/engine/store/results.js';
import { openJobsDb } from '../../unit/jobs/helpers.js';
import { makeBatchArchive, STRUCTURES, TEMPLATE_SET } from './archive.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'models');

interface Manifest {
  format: number;
  models: { name: string; file: string; sha256: string }[];
}

/** A models folder holding the tiny MedLAM and tiny SAM fixtures under one manifest. */
function mergedModels(dir: string): { dir: string; manifest: Manifest } {
  mkdirSync(dir, { recursive: true });
  const merged: Manifest = { format: 1, models: [] };
  for (const sub of ['medlam-tiny', 'sam']) {
    const m = JSON.parse(readFileSync(join(FIXTURES, sub, 'manifest.json'), 'utf8')) as Manifest;
    for (const e of m.models) copyFileSync(join(FIXTURES, sub, e.file), join(dir, e.file));
    merged.models.push(...m.models);
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(merged, null, 1));
  return { dir, manifest: merged };
}

test('without verified models the weight-free atlas backend is chosen, each step on its own', async (t) => {
  const dir = tempDir(t);
  const none = await selectBackends({ modelsDir: join(dir, 'absent') });
  assert.deepEqual([none.localizer.name, none.segmenter.name], ['atlas', 'atlas']);
  assert.match(none.reasons.join('\n'), /no manifest\.json in models folder/);
  const samOnly = await selectBackends({ modelsDir: join(FIXTURES, 'sam') });
  assert.deepEqual([samOnly.localizer.name, samOnly.segmenter.name], ['atlas', 'medsam']);
  assert.match(samOnly.reasons[0]!, /no model with role medlam-full/);
  const { dir: both } = mergedModels(join(dir, 'models'));
  const full = await selectBackends({ modelsDir: both });
  assert.deepEqual([full.localizer.name, full.segmenter.name], ['medlam', 'medsam']);
  assert.deepEqual([(await selectBackends({ modelsDir: both, backend: 'atlas' })).localizer.name], ['atlas']);
  await assert.rejects(selectBackends({ backend: 'nnunet' }), /unknown backend 'nnunet'/);
});

test('an altered model file is never used: automatic choice falls back, a forced choice is refused naming the file', async (t) => {
  const { dir, manifest } = mergedModels(join(tempDir(t), 'models'));
  const enc = manifest.models.find((m) => m.file.includes('encoder'))!;
  appendFileSync(join(dir, enc.file), Buffer.from([0]));
  const status = modelsStatus(dir);
  assert.equal(status.medlam.ok, false, 'one altered file makes the folder untrusted');
  assert.match(status.sam.problem!, new RegExp(`${enc.file.replace('.', '\\.')} has sha256`));
  const auto = await selectBackends({ modelsDir: dir });
  assert.deepEqual([auto.localizer.name, auto.segmenter.name], ['atlas', 'atlas']);
  assert.ok(auto.reasons.every((r) => r.includes(enc.file)), 'the reasons name the altered file');
  await assert.rejects(selectBackends({ modelsDir: dir, backend: 'medlam' }), (e: Error) => e.message.includes(enc.file) && /models are not usable/.test(e.message));
});

test('a batch with MedLAM + MedSAM records both backends and every model hash on the run and in the audit trail', { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t);
  process.env.DELINEATE_HOME = join(dir, 'home'); // caches of the workers' backends
  t.after(() => delete process.env.DELINEATE_HOME);
  const { dir: models, manifest } = mergedModels(join(dir, 'models'));
  const archive = await makeBatchArchive(join(dir, 'archive'), { count: 1 }); // MedLAM's fine search costs ~15 s a series here
  const db = openJobsDb(archive.dbFile);
  t.after(() => db.close());
  const batch = startBatch({ db, dbPath: archive.dbFile, request: { templateSet: TEMPLATE_SET, series: archive.series }, modelsDir: models });
  const res = await batch.done;
  assert.equal(res.status, 'done');
  assert.deepEqual(res.items.map((i) => [i.status, i.error?.message]), archive.series.map(() => ['done', undefined]));
  const run = getRun(db, batch.runId);
  assert.deepEqual([run.localizer, run.segmenter], ['medlam', 'medsam']);
  const hashes = new Set(run.models.map((m) => m.sha256));
  for (const m of manifest.models.filter((e) => /full|encoder|decoder/.test(e.file))) assert.ok(hashes.has(m.sha256), `run records ${m.name}`);
  const results = getResults(db, archive.series[0]!, TEMPLATE_SET);
  assert.deepEqual(results.map((r) => r.structure).sort(), [...STRUCTURES].sort());
  assert.ok(results.every((r) => r.localizer === 'medlam' && r.models.length > 0));
  const created = auditTrail(db, { seriesUid: archive.series[0]!, structure: results[0]!.structure });
  assert.equal(created[0]!.action, 'created');
  assert.equal(created[0]!.runId, batch.runId);
  assert.deepEqual(created[0]!.templates, [archive.templateSeries]);
});
