import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkModels, findModel, loadManifest, readManifest, requireModel, sha256File } from '../../../electron/engine/models/manifest.js';
import { availableExecutionProviders, chooseExecutionProviders } from '../../../electron/engine/models/session.js';
import { ModelError } from '../../../electron/engine/errors.js';
import { tempDir } from '../../helpers/data.js';
import { createHash } from 'node:crypto';

function folder(t: Parameters<typeof tempDir>[0], content = 'weights'): { dir: string; sha: string } {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.onnx'), content);
  const sha = createHash('sha256').update(content).digest('hex');
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({ format: 1, models: [{ name: 'medlam', role: 'medlam-full', file: 'a.onnx', sha256: sha, inputs: ['x'], outputs: ['fc_position'], constants: { patchSize: [64, 64, 64] } }] }),
  );
  return { dir, sha };
}

test('a verified manifest lists its models by role', (t) => {
  const { dir, sha } = folder(t);
  const m = loadManifest(dir);
  assert.equal(m.models.length, 1);
  assert.equal(requireModel(m, 'medlam-full').sha256, sha);
  assert.equal(findModel(m, 'sam-encoder'), undefined);
  assert.throws(() => requireModel(m, 'sam-encoder'), ModelError);
  assert.equal(sha256File(join(dir, 'a.onnx')), sha);
});

test('an altered or missing model file is refused with its name', (t) => {
  const { dir } = folder(t);
  writeFileSync(join(dir, 'a.onnx'), 'tampered');
  assert.throws(() => loadManifest(dir), (e: unknown) => e instanceof ModelError && /a\.onnx/.test(e.message) && /sha256/.test(e.message));
  const checks = checkModels(readManifest(dir));
  assert.equal(checks[0]!.ok, false);
  const { dir: d2 } = folder(t);
  writeFileSync(join(d2, 'manifest.json'), JSON.stringify({ models: [{ name: 'x', role: 'medlam-fc', file: 'gone.onnx', sha256: 'a'.repeat(64), inputs: [], outputs: [] }] }));
  assert.throws(() => loadManifest(d2), /gone\.onnx.*missing/);
});

test('malformed manifests give a clear ModelError', (t) => {
  const dir = tempDir(t);
  assert.throws(() => readManifest(dir), /no manifest\.json/);
  writeFileSync(join(dir, 'manifest.json'), '{"models": [{"name": "m"}]}');
  assert.throws(() => readManifest(dir), ModelError);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ models: [{ name: 'm', role: 'r', file: '../escape.onnx', sha256: 'a'.repeat(64), inputs: [], outputs: [] }] }));
  assert.throws(() => readManifest(dir), /plain name/);
});

test('CPU is always offered, and DELINEATE_EP forces a provider or fails clearly', () => {
  assert.ok(availableExecutionProviders().includes('cpu'));
  assert.equal(chooseExecutionProviders({}).at(-1), 'cpu');
  assert.deepEqual(chooseExecutionProviders({ DELINEATE_EP: 'cpu' }), ['cpu']);
  assert.throws(() => chooseExecutionProviders({ DELINEATE_EP: 'tpu' }), ModelError);
});
