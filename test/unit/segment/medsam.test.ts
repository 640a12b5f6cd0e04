/**
 * The MedSAM segmenter end to end on the tiny fixture models (test/fixtures/models/sam), whose
 * mask token 0 is "inside the box and bright": a bright cube inside a box must come back as exactly
 * that cube, tokens picked by IoU would give the box instead, and the encoder must run once per slice
 * however many structures share it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, tempDir } from '../../helpers/data.js';
import { EmbeddingCache } from '../../../electron/engine/segment/embedding-cache.js';
import { MedsamSegmenter, planSlices, voxelBox } from '../../../electron/engine/segment/medsam.js';
import { medsamFromModelsDir } from '../../../electron/engine/segment/factory.js';
import { chooseExecutionProviders } from '../../../electron/engine/models/session.js';
import { voxelToPatient, type Mat3, type Vec3 } from '../../../electron/engine/volume/geometry.js';
import type { Volume } from '../../../electron/engine/volume/volume.js';
import type { Box } from '../../../electron/engine/localize/localizer.js';

const FIX = join(REPO_ROOT, 'test', 'fixtures', 'models', 'sam');
const encoderFile = join(FIX, 'tiny_sam_encoder.onnx');
const decoderFile = join(FIX, 'tiny_sam_decoder.onnx');

const dims: Vec3 = [32, 32, 10];
function phantom(direction: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1]): Volume {
  const data = new Float32Array(dims[0] * dims[1] * dims[2]).fill(-1000);
  for (let k = 3; k <= 6; k++) for (let j = 12; j <= 21; j++) for (let i = 10; i <= 19; i++) data[i + 32 * (j + 32 * k)] = 800;
  return { dims, spacing: [2, 2, 3], origin: [-30, 12, 40], direction, data };
}
// The reference samples the 1024 probability map at pixel [32r, 32c] (the top-left of each voxel's
// block, quirk M8), whose bilinear taps give a bright edge 0.625 weight: edges survive (0.625 > 0.5)
// but the top-left corner voxel of each slice gets 0.625^2 < 0.5 and drops out. So the expected mask is
// the cube less that corner: 99 voxels a slice.
const inCube = (i: number, j: number, k: number): boolean =>
  i >= 10 && i <= 19 && j >= 12 && j <= 21 && k >= 3 && k <= 6 && !(i === 10 && j === 12);

function lpsBox(v: Volume, a: Vec3, b: Vec3): Box {
  return { min: voxelToPatient(v, a), max: voxelToPatient(v, b) };
}

function seg(extra: Partial<ConstructorParameters<typeof MedsamSegmenter>[0]> = {}): MedsamSegmenter {
  return new MedsamSegmenter({ encoderFile, decoderFile, cache: new EmbeddingCache({ maxEntries: 16 }), postprocess: false, ...extra });
}

test('a bright cube inside its box is segmented exactly (mask token 0, not the highest IoU)', async () => {
  const v = phantom();
  const s = seg();
  const [r] = await s.segment({ seriesUid: 'u1', volume: v, structures: [{ name: 'Cube', boxes: [lpsBox(v, [8, 10, 2], [22, 24, 7])] }] });
  assert.ok(r);
  let wrong = 0;
  for (let k = 0; k < dims[2]; k++) for (let j = 0; j < 32; j++) for (let i = 0; i < 32; i++) {
    if ((r.mask[i + 32 * (j + 32 * k)] === 1) !== inCube(i, j, k)) wrong++;
  }
  assert.equal(wrong, 0);
  assert.equal(r.voxels, 99 * 4);
  assert.ok(Math.abs(r.volumeCc - (396 * 12) / 1000) < 1e-9);
  assert.ok(Math.abs(r.confidence - 0.6) < 1e-6, `confidence ${r.confidence} is token 0's predicted IoU`);
  assert.deepEqual(r.flags, []);
});

test('a flipped direction matrix gives the same voxels (boxes cross as LPS mm)', async () => {
  const v = phantom([-1, 0, 0, 0, -1, 0, 0, 0, 1]);
  const [r] = await seg().segment({ seriesUid: 'u2', volume: v, structures: [{ name: 'Cube', boxes: [lpsBox(v, [22, 24, 7], [8, 10, 2])] }] });
  assert.equal(r?.voxels, 396);
});

test('embeddings are shared: one encoder run per slice for every structure, and across calls', async () => {
  const v = phantom();
  const s = seg();
  const box = lpsBox(v, [8, 10, 2], [22, 24, 7]);
  await s.segment({ seriesUid: 'u3', volume: v, structures: [{ name: 'A', boxes: [box] }, { name: 'B', boxes: [box] }, { name: 'C', boxes: [box] }] });
  assert.equal(s.encoderRuns, 6);
  assert.equal(s.decoderRuns, 18);
  await s.segment({ seriesUid: 'u3', volume: v, structures: [{ name: 'A', boxes: [box] }] });
  assert.equal(s.encoderRuns, 6, 'second template set on the same series reuses the embeddings');

  const ref = seg({ shareEmbeddings: false });
  await ref.segment({ seriesUid: 'u3', volume: v, structures: [{ name: 'A', boxes: [box] }, { name: 'B', boxes: [box] }] });
  assert.equal(ref.encoderRuns, 12, "the reference's way re-encodes per structure");
});

test('the on-disk cache serves a new process (new segmenter) without encoding', async (t) => {
  const dir = tempDir(t);
  const v = phantom();
  const box = lpsBox(v, [8, 10, 3], [22, 24, 4]);
  const a = seg({ cache: new EmbeddingCache({ dir, maxEntries: 2 }) });
  const [ra] = await a.segment({ seriesUid: 'disk', volume: v, structures: [{ name: 'A', boxes: [box] }] });
  const b = seg({ cache: new EmbeddingCache({ dir, maxEntries: 2 }) });
  const [rb] = await b.segment({ seriesUid: 'disk', volume: v, structures: [{ name: 'A', boxes: [box] }] });
  assert.equal(b.encoderRuns, 0);
  assert.equal(b.cache.stats.diskHits, 2);
  assert.deepEqual(rb?.mask, ra?.mask);
  // A different series UID is a different key.
  await b.segment({ seriesUid: 'other', volume: v, structures: [{ name: 'A', boxes: [box] }] });
  assert.equal(b.encoderRuns, 2);
});

test('the memory cache is bounded (LRU)', () => {
  const c = new EmbeddingCache({ maxEntries: 2 });
  const key = (slice: number) => ({ modelHash: 'm', seriesUid: 's', slice, recipe: 'r' });
  c.set(key(1), new Float32Array(4));
  c.set(key(2), new Float32Array(4));
  assert.ok(c.get(key(1), 4)); // 1 becomes most recent
  c.set(key(3), new Float32Array(4));
  assert.equal(c.size, 2);
  assert.equal(c.get(key(2), 4), undefined);
  assert.ok(c.get(key(1), 4));
});

test('clean-up removes an island the box picked up; flags absent and cut-off', async () => {
  const v = phantom();
  for (let k = 3; k <= 4; k++) for (let j = 25; j <= 26; j++) for (let i = 25; i <= 26; i++) v.data[i + 32 * (j + 32 * k)] = 800;
  const box = lpsBox(v, [8, 10, 2], [28, 28, 7]);
  const [raw] = await seg().segment({ seriesUid: 'u4', volume: v, structures: [{ name: 'Cube', boxes: [box] }] });
  const [clean] = await seg({ postprocess: true }).segment({ seriesUid: 'u4', volume: v, structures: [{ name: 'Cube', boxes: [box] }] });
  assert.equal(raw?.voxels, 396 + 2 * 3);
  assert.equal(clean?.voxels, 396);
  const [none] = await seg().segment({ seriesUid: 'u4', volume: v, structures: [{ name: 'Air', boxes: [lpsBox(v, [0, 0, 5], [4, 4, 12])] }] });
  assert.deepEqual(none?.flags, ['absent', 'cut-off']);
});

test('slice plans: inclusive product range vs the reference half-open global range (M1)', () => {
  const b = (k0: number, k1: number) => ({ iMin: 0, jMin: 0, iMax: 1, jMax: 1, kMin: k0, kMax: k1 });
  const structures = [{ name: 'A', boxes: [b(2, 5)] }, { name: 'B', boxes: [b(4, 8)] }];
  const inc = planSlices(structures, 20, 'inclusive');
  assert.deepEqual(inc[1]!.jobs[0]!.slices, [4, 5, 6, 7, 8]);
  const ref = planSlices(structures, 20, 'reference');
  assert.deepEqual(ref[0]!.jobs[0]!.slices, [2, 3, 4, 5]);
  assert.deepEqual(ref[1]!.jobs[0]!.slices, [4, 5, 6, 7], 'the furthest-reaching structure loses its last slice');
  const clip = planSlices([{ name: 'C', boxes: [b(-3, 25)] }], 20, 'inclusive');
  assert.equal(clip[0]!.jobs[0]!.slices.length, 20);
  assert.ok(clip[0]!.cutOff);
});

test('voxelBox turns LPS corners back into inclusive integral indices', () => {
  const v = phantom([0, 1, 0, 1, 0, 0, 0, 0, 1]);
  const box = voxelBox(v, voxelToPatient(v, [3, 9, 1]), voxelToPatient(v, [7, 2, 5]));
  assert.deepEqual(box, { iMin: 3, jMin: 2, kMin: 1, iMax: 7, jMax: 9, kMax: 5 });
});

test('cancellation stops between slices', async () => {
  const v = phantom();
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(
    seg().segment({ seriesUid: 'u5', volume: v, signal: ac.signal, structures: [{ name: 'A', boxes: [lpsBox(v, [8, 10, 2], [22, 24, 7])] }] }),
    { name: 'CancelledError' },
  );
});

test('execution providers: CPU is always the fallback; an unavailable forced provider is refused', async () => {
  const chosen = chooseExecutionProviders({});
  assert.equal(chosen[chosen.length - 1], 'cpu');
  // This build has no CUDA libraries and no DirectML: forcing them must fail with a clear message.
  assert.throws(() => chooseExecutionProviders({ DELINEATE_EP: 'dml' }), /not available/);
  assert.throws(() => chooseExecutionProviders({ DELINEATE_EP: 'tpu' }), /not one of/);
  assert.deepEqual(chooseExecutionProviders({ DELINEATE_EP: 'cpu' }), ['cpu']);
  const s = seg({ session: { executionProviders: chosen } });
  const v = phantom();
  const [r] = await s.segment({ seriesUid: 'ep', volume: v, structures: [{ name: 'A', boxes: [lpsBox(v, [8, 10, 3], [22, 24, 3])] }] });
  assert.equal(r?.voxels, 99);
});

test('the models folder manifest gives files, hashes and constants', async () => {
  const s = medsamFromModelsDir(FIX, { cache: new EmbeddingCache({ maxEntries: 4 }), postprocess: false });
  assert.deepEqual(s.models().map((m) => m.name), ['sam-encoder', 'sam-decoder']);
  assert.match(s.models()[0]!.sha256, /^[0-9a-f]{64}$/);
  assert.equal(s.constants.resizeOrder, 2);
  const v = phantom();
  const [r] = await s.segment({ seriesUid: 'mf', volume: v, structures: [{ name: 'A', boxes: [lpsBox(v, [8, 10, 3], [22, 24, 3])] }] });
  assert.equal(r?.voxels, 99);
});

test('the quantized encoder is opt-in and refused clearly when the folder has none', () => {
  assert.throws(() => medsamFromModelsDir(FIX, { quantizedEncoder: true }), /sam-encoder-int8/);
});

test('the disk cache is pruned to its budget, least recently used first', (t) => {
  const dir = tempDir(t);
  const c = new EmbeddingCache({ dir, maxEntries: 0, maxDiskBytes: 3 * 16 });
  const key = (slice: number) => ({ modelHash: 'm'.repeat(16), seriesUid: 's', slice, recipe: 'r' });
  for (let s = 0; s < 5; s++) {
    c.set(key(s), new Float32Array(4).fill(s));
    const when = new Date(Date.UTC(2026, 0, 1, 0, 0, s)); // distinct use times, oldest first
    utimesSync(c.filePath(key(s))!, when, when);
  }
  c.prune();
  const kept = [0, 1, 2, 3, 4].filter((s) => c.get(key(s), 4) !== undefined);
  assert.equal(kept.length, 3);
  assert.deepEqual(kept, [2, 3, 4]);
});

test('reference mode: SPL parts sharing a slice, the later part replaces the earlier (the product ORs)', async () => {
  const v = phantom();
  const wide = lpsBox(v, [8, 10, 2], [22, 24, 4]);
  const narrow = lpsBox(v, [8, 10, 4], [14, 24, 6]); // shares slice 4, covers only part of the cube there
  const ref = await seg({ sliceRange: 'reference' }).segment({ seriesUid: 'spl', volume: v, structures: [{ name: 'A', boxes: [wide, narrow] }] });
  const prod = await seg().segment({ seriesUid: 'spl', volume: v, structures: [{ name: 'A', boxes: [wide, narrow] }] });
  const onSlice = (m: Uint8Array, k: number): number => m.subarray(k * 1024, (k + 1) * 1024).reduce((a, b) => a + b, 0);
  assert.equal(onSlice(prod[0]!.mask, 4), 99);
  assert.ok(onSlice(ref[0]!.mask, 4) < 99, 'the narrow later part replaced slice 4');
  assert.equal(onSlice(ref[0]!.mask, 6), 0, 'the half-open global range drops the last part\'s top slice');
});
