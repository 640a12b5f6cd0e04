/**
 * Reduced-precision models in the manifest: float16 entries listed for GPU providers beside the
 * float32 ones of the same role, chosen per execution provider (manifest.ts selectModel), refused
 * with errors naming the manifest when misdeclared, and the float16 copy of the tiny MedLAM
 * (models/export/to_fp16.py, committed in test/fixtures/models/medlam-tiny-fp16) checked against the
 * float32 graph on CPU, where ONNX Runtime runs it through float32 kernels with float16 rounding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, tempDir } from '../../helpers/data.js';
import { loadManifest, readManifest, selectModel, sha256File, type ModelEntry } from '../../../electron/engine/models/manifest.js';
import { chooseExecutionProviders } from '../../../electron/engine/models/session.js';
import { MedlamNet } from '../../../electron/engine/localize/medlam-net.js';
import { medsamFromModelsDir } from '../../../electron/engine/segment/factory.js';
import { ModelError } from '../../../electron/engine/errors.js';
import { modelsStatus } from '../../../electron/engine/backends.js';

const FIX = join(REPO_ROOT, 'test', 'fixtures', 'models');
const GPU = ['cuda', 'dml', 'coreml'];

/** A models folder with the tiny MedLAM in float16 (GPU providers, listed first) and float32. */
function folder(t: Parameters<typeof tempDir>[0], fp16Providers: string[] = GPU): string {
  const dir = tempDir(t);
  const tpl = readManifest(join(FIX, 'medlam-tiny'));
  const models: Record<string, unknown>[] = [];
  for (const tag of ['full', 'fc']) {
    const f32 = tpl.models.find((m) => m.file === `medlam_tiny_${tag}.onnx`)!;
    const f16 = `medlam_tiny_${tag}_fp16.onnx`;
    copyFileSync(join(FIX, 'medlam-tiny', f32.file), join(dir, f32.file));
    copyFileSync(join(FIX, 'medlam-tiny-fp16', f16), join(dir, f16));
    const { constants, ...rest } = f32;
    models.push({ ...rest, name: `${f32.name}-fp16`, file: f16, sha256: sha256File(join(dir, f16)), precision: 'fp16', executionProviders: fp16Providers });
    models.push({ ...rest, ...(constants ? { constants } : {}) });
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ format: 1, models }));
  return dir;
}

test('a float16 entry for GPU providers is used there and skipped on CPU', (t) => {
  const m = loadManifest(folder(t));
  const pick = (p: 'cpu' | 'cuda', role: string): ModelEntry => selectModel(m, role, p)!;
  assert.equal(pick('cuda', 'medlam-full').precision, 'fp16');
  assert.equal(pick('cuda', 'medlam-fc').precision, 'fp16');
  assert.equal(pick('cpu', 'medlam-full').precision, 'fp32');
  assert.equal(pick('cpu', 'medlam-fc').file, 'medlam_tiny_fc.onnx');
  assert.equal(selectModel(m, 'sam-encoder', 'cpu'), undefined);
});

test('MedlamNet opens the CPU entry when the session runs on CPU', async (t) => {
  const dir = folder(t);
  const net = await MedlamNet.open(loadManifest(dir), { executionProviders: ['cpu'] });
  assert.equal(net.fullEntry.precision, 'fp32');
  assert.ok(!net.models().some((x) => /fp16/.test(x.name)));
});

test('a role with only GPU entries is refused on CPU with the manifest named', (t) => {
  const dir = tempDir(t);
  copyFileSync(join(FIX, 'medlam-tiny-fp16', 'medlam_tiny_full_fp16.onnx'), join(dir, 'f.onnx'));
  const entry = { name: 'm16', role: 'medlam-full', file: 'f.onnx', sha256: sha256File(join(dir, 'f.onnx')), inputs: ['x'], outputs: ['fc_position'], precision: 'fp16', executionProviders: ['cuda'] };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ models: [entry] }));
  const m = loadManifest(dir);
  assert.throws(
    () => selectModel(m, 'medlam-full', 'cpu'),
    (e: unknown) => e instanceof ModelError && e.message.includes(join(dir, 'manifest.json')) && /no medlam-full model for the cpu/.test(e.message) && /m16 \(fp16: cuda\)/.test(e.message),
  );
  assert.equal(selectModel(m, 'medlam-full', 'cuda')!.name, 'm16');
});

test('misdeclared providers and precisions are refused naming the manifest entry', (t) => {
  const dir = tempDir(t);
  const base = { name: 'a', role: 'sam-encoder', file: 'a.onnx', sha256: 'a'.repeat(64), inputs: [], outputs: [] };
  const bad = (doc: unknown, re: RegExp): void => {
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(doc));
    assert.throws(() => readManifest(dir), (e: unknown) => e instanceof ModelError && e.message.includes(join(dir, 'manifest.json')) && re.test(e.message));
  };
  bad({ models: [{ ...base, executionProviders: ['tpu'] }] }, /models\[0\]: "executionProviders" must be a non-empty array of cuda, dml, coreml, cpu/);
  bad({ models: [{ ...base, executionProviders: [] }] }, /"executionProviders" must be a non-empty array/);
  bad({ models: [{ ...base, executionProviders: ['cuda', 'cuda'] }] }, /lists a provider twice/);
  bad({ models: [{ ...base, precision: 'fp8' }] }, /"precision" must be fp32 or fp16/);
  bad({ models: [base], executionProviders: 'cuda' }, /"executionProviders" must be a non-empty array/);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ models: [base], executionProviders: ['cpu'] }));
  assert.deepEqual(readManifest(dir).executionProviders, ['cpu']);
});

test("a folder's provider preference orders the providers; DELINEATE_EP still wins", () => {
  assert.deepEqual(chooseExecutionProviders({}, ['cpu']), ['cpu']);
  // cuda is not installed here: a folder preferring it falls back to the next available provider.
  assert.equal(chooseExecutionProviders({}, ['cuda', 'cpu']).at(-1), 'cpu');
  assert.deepEqual(chooseExecutionProviders({ DELINEATE_EP: 'cpu' }, ['cuda']), ['cpu']);
});

test('the SAM factory picks the float32 encoder on CPU when a float16 one is listed for GPUs', (t) => {
  const dir = tempDir(t);
  const tpl = readManifest(join(FIX, 'sam'));
  for (const m of tpl.models) copyFileSync(join(FIX, 'sam', m.file), join(dir, m.file));
  const enc = tpl.models.find((m) => m.role === 'sam-encoder')!;
  // A stand-in for the float16 file (never opened here: only the selection is under test).
  writeFileSync(join(dir, 'enc16.onnx'), 'not opened on cpu');
  const f16 = { ...enc, name: 'enc16', file: 'enc16.onnx', sha256: sha256File(join(dir, 'enc16.onnx')), precision: 'fp16', executionProviders: GPU };
  delete (f16 as { constants?: unknown }).constants;
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ format: 1, models: [f16, ...tpl.models] }));
  const seg = medsamFromModelsDir(dir, { session: { executionProviders: ['cpu'] } });
  assert.equal(seg.models()[0]!.sha256, enc.sha256);
});

test('the float16 tiny MedLAM runs on CPU within 1% of the float32 graph (measured 0.3%)', async (t) => {
  // On CPU ONNX Runtime has no float16 Conv: it inserts casts around float32 kernels, so this file
  // runs (slower, measured 1.25x) with float16 rounding of every tensor in between.
  const dir = folder(t, ['cpu']);
  const m = loadManifest(dir);
  const f16 = await MedlamNet.open(m, { executionProviders: ['cpu'] });
  assert.equal(f16.fullEntry.precision, 'fp16');
  const f32 = await MedlamNet.open({ ...m, models: m.models.filter((e) => e.precision !== 'fp16') }, { executionProviders: ['cpu'] });
  const x = new Float32Array(64 ** 3);
  let s = 1;
  for (let i = 0; i < x.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    x[i] = s / 2147483648;
  }
  const a = await f32.features(x, [64, 64, 64]);
  const b = await f16.features(x, [64, 64, 64]);
  for (let k = 0; k < a.maps.length; k++) {
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < a.maps[k]!.length; i++) {
      diff = Math.max(diff, Math.abs(a.maps[k]![i]! - b.maps[k]![i]!));
      scale = Math.max(scale, Math.abs(a.maps[k]![i]!));
    }
    assert.ok(diff > 0, `feature${k}: the float16 graph must actually round`);
    assert.ok(diff <= 1e-2 * scale, `feature${k}: max |diff| ${diff} vs max |x| ${scale}`);
  }
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(a.fc[i]! - b.fc[i]!) <= 1e-2 * Math.max(...a.fc.map(Math.abs)), `fc_position ${i}`);
  const fc16 = await f16.fcPosition(x, [64, 64, 64]);
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(fc16[i]! - b.fc[i]!) <= 1e-2 * Math.max(...b.fc.map(Math.abs)), `fc-only graph ${i}`);
});

test('models status judges each family by the entries meant for the provider in use', (t) => {
  const both = folder(t);
  assert.equal(modelsStatus(both).medlam.ok, true);
  const gpuOnly = tempDir(t);
  copyFileSync(join(FIX, 'medlam-tiny-fp16', 'medlam_tiny_full_fp16.onnx'), join(gpuOnly, 'f.onnx'));
  const entry = { name: 'm16', role: 'medlam-full', file: 'f.onnx', sha256: sha256File(join(gpuOnly, 'f.onnx')), inputs: ['x'], outputs: ['fc_position'], precision: 'fp16', executionProviders: ['cuda'] };
  writeFileSync(join(gpuOnly, 'manifest.json'), JSON.stringify({ models: [entry], executionProviders: ['cpu'] }));
  const st = modelsStatus(gpuOnly);
  assert.equal(st.medlam.ok, false);
  assert.match(st.medlam.problem ?? '', /no medlam-full model for the cpu execution provider/);
});
