/**
 * Preparing slice n+1 in a worker while slice n encodes (segment/prep-ahead.ts) must not change a
 * single value: the worker's encoder input is bit-identical to the main thread's, and a run with the
 * worker gives the same masks, IoUs and encoder count as one without it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers/data.js';
import { SlicePreparer } from '../../../electron/engine/segment/prep-ahead.js';
import { clippedRange, encoderInput, MEDSAM_CONSTANTS, sliceImage, windowSlice } from '../../../electron/engine/segment/preprocess.js';
import { EmbeddingCache } from '../../../electron/engine/segment/embedding-cache.js';
import { MedsamSegmenter, PREPARE_AHEAD_MIN_SLICES } from '../../../electron/engine/segment/medsam.js';
import { voxelToPatient, type Vec3 } from '../../../electron/engine/volume/geometry.js';
import type { Volume } from '../../../electron/engine/volume/volume.js';

const FIX = join(REPO_ROOT, 'test', 'fixtures', 'models', 'sam');

function volume(): Volume<Int16Array> {
  const dims: Vec3 = [40, 36, 8];
  const data = new Int16Array(dims[0] * dims[1] * dims[2]);
  let s = 7;
  for (let n = 0; n < data.length; n++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[n] = (s % 2600) - 1100; // air to bone, exact zeros included
  }
  for (let k = 2; k <= 6; k++) for (let j = 10; j <= 20; j++) for (let i = 12; i <= 26; i++) data[i + 40 * (j + 36 * k)] = 900;
  return { dims, spacing: [1.5, 1.5, 3], origin: [-20, -10, 30], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data };
}

test('the worker prepares a slice bit-identically to the main thread', async (t) => {
  const v = volume();
  const range = clippedRange(v.data, MEDSAM_CONSTANTS.windowHu);
  const p = new SlicePreparer(MEDSAM_CONSTANTS);
  t.after(() => p.close());
  for (const k of [0, 3, 7]) {
    const expected = encoderInput(sliceImage(windowSlice(v, k, MEDSAM_CONSTANTS.windowHu, range), v.dims[1], v.dims[0], MEDSAM_CONSTANTS), MEDSAM_CONSTANTS);
    const got = await p.prepare(v, k, range);
    assert.equal(got.length, expected.length);
    assert.ok(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(expected.buffer)), `slice ${k} differs`);
  }
});

test('a run with slice preparation in a worker gives the same masks as one without', async () => {
  const i16 = volume();
  const v: Volume = { ...i16, data: Float32Array.from(i16.data) };
  const box = { min: voxelToPatient(v, [10, 8, 1]), max: voxelToPatient(v, [28, 22, 7]) };
  const structures = [{ name: 'A', boxes: [box] }, { name: 'B', boxes: [{ min: voxelToPatient(v, [12, 10, 2]), max: voxelToPatient(v, [26, 20, 5]) }] }];
  const run = async (prepareAhead: boolean) => {
    const s = new MedsamSegmenter({ encoderFile: join(FIX, 'tiny_sam_encoder.onnx'), decoderFile: join(FIX, 'tiny_sam_decoder.onnx'), cache: new EmbeddingCache({ maxEntries: 16 }), prepareAhead });
    const r = await s.segment({ seriesUid: 'prep', volume: v, structures });
    return { r, encoderRuns: s.encoderRuns };
  };
  const a = await run(true);
  const b = await run(false);
  assert.ok(a.encoderRuns >= PREPARE_AHEAD_MIN_SLICES, 'the run is long enough to use the worker');
  assert.equal(a.encoderRuns, b.encoderRuns);
  assert.equal(a.r.length, 2);
  for (let i = 0; i < a.r.length; i++) {
    assert.ok(a.r[i]!.voxels > 0);
    assert.equal(a.r[i]!.voxels, b.r[i]!.voxels);
    assert.ok(Buffer.from(a.r[i]!.mask).equals(Buffer.from(b.r[i]!.mask)));
    assert.equal(a.r[i]!.confidence, b.r[i]!.confidence);
  }
});
