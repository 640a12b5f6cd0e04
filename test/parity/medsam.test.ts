/**
 * MedSAM parity with the reference (MedLSAM_WPL_Inference.py run on CPU with fixed random SAM
 * weights; ../shared/parity/README.md). Every case folder under DELINEATE_PARITY whose case.json
 * names a SAM encoder and decoder is checked; everything (structures, boxes, slices, constants, the
 * query CT, the models) comes from case.json, so unseen cases laid out the same way run unchanged.
 *
 * Acceptance: 1024x1024 preprocessed slices within 1 grey level, embeddings within 1e-3 relative,
 * final 3-D masks Dice >= 0.99 per structure.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { dataDir, parityDir } from '../helpers/data.js';
import { readNifti } from '../../electron/engine/nifti/nifti.js';
import { voxelToPatient, type Vec3 } from '../../electron/engine/volume/geometry.js';
import { EmbeddingCache } from '../../electron/engine/segment/embedding-cache.js';
import { MedsamSegmenter, planSlices, voxelBox } from '../../electron/engine/segment/medsam.js';
import { boxTo1024, clippedRange, windowSlice, MEDSAM_CONSTANTS, type SamPreprocessConstants } from '../../electron/engine/segment/preprocess.js';
import { SamOnnx } from '../../electron/engine/segment/sam-onnx.js';
import type { Box } from '../../electron/engine/localize/localizer.js';

interface ArraySpec {
  file: string;
  dtype: string;
  shape: number[];
  sha256_raw?: string;
}

interface CaseJson {
  case?: string;
  inputs: { query_ct: string; structures?: number[] };
  models: { encoder_onnx: string; decoder_onnx: string; encoder_onnx_sha256?: string; decoder_onnx_sha256?: string };
  constants: Record<string, unknown>;
  chosen_slices?: number[];
  structures: Record<string, { name: string; box_corner_zyx_from_medlam: number[][][] }>;
  arrays: Record<string, ArraySpec>;
}

type Typed = Float32Array | Float64Array | Int32Array | Uint8Array | BigInt64Array;

function loadArray(dir: string, spec: ArraySpec): Typed {
  let buf = readFileSync(join(dir, spec.file));
  if (spec.file.endsWith('.gz')) buf = gunzipSync(buf);
  if (spec.sha256_raw) {
    assert.equal(createHash('sha256').update(buf).digest('hex'), spec.sha256_raw, `${spec.file}: sha256 of the raw bytes`);
  }
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  switch (spec.dtype) {
    case 'float32': return new Float32Array(ab);
    case 'float64': return new Float64Array(ab);
    case 'int32': return new Int32Array(ab);
    case 'uint8': return new Uint8Array(ab);
    case 'int64': return new BigInt64Array(ab);
    default: throw new Error(`${spec.file}: dtype ${spec.dtype} not handled`);
  }
}

function discoverCases(): { dir: string; json: CaseJson }[] {
  const root = parityDir();
  if (!existsSync(root)) return [];
  const out: { dir: string; json: CaseJson }[] = [];
  for (const name of readdirSync(root).sort()) {
    const f = join(root, name, 'case.json');
    if (!existsSync(f)) continue;
    const json = JSON.parse(readFileSync(f, 'utf8')) as CaseJson;
    if (json.models?.encoder_onnx && json.models?.decoder_onnx) out.push({ dir: join(root, name), json });
  }
  return out;
}

/** Models live in the case folder or in ../models (README "Layout"). */
function findFile(caseDir: string, name: string, extra: string[] = []): string | undefined {
  const cands = [join(caseDir, name), join(caseDir, '..', 'models', name), join(caseDir, '..', name), ...extra.map((d) => join(d, name))];
  return cands.find((p) => existsSync(p));
}

/** The preprocessing constants the case records (falling back to MedSAM's where a key is absent). */
function constantsOf(c: Record<string, unknown>): SamPreprocessConstants {
  const num3 = (v: unknown, d: [number, number, number]): [number, number, number] =>
    Array.isArray(v) && v.length === 3 ? (v.map(Number) as [number, number, number]) : d;
  const recipe = typeof c.resize === 'string' ? c.resize : '';
  const order = /order\s*=\s*(\d)/.exec(recipe);
  const w = c.window_hu;
  return {
    windowHu: Array.isArray(w) && w.length === 2 ? [Number(w[0]), Number(w[1])] : MEDSAM_CONSTANTS.windowHu,
    imageSize: typeof c.image_size === 'number' ? c.image_size : MEDSAM_CONSTANTS.imageSize,
    resizeOrder: order ? Number(order[1]) : MEDSAM_CONSTANTS.resizeOrder,
    pixelMean: num3(c.pixel_mean, MEDSAM_CONSTANTS.pixelMean),
    pixelStd: num3(c.pixel_std, MEDSAM_CONSTANTS.pixelStd),
    boxPaddingPx: typeof c.box_padding_px_1024 === 'number' ? c.box_padding_px_1024 : MEDSAM_CONSTANTS.boxPaddingPx,
  };
}

function dice(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < a.length; i++) {
    inter += a[i]! & b[i]!;
    sa += a[i]!;
    sb += b[i]!;
  }
  return sa + sb === 0 ? 1 : (2 * inter) / (sa + sb);
}

const cases = discoverCases();

test('MedSAM parity cases are present', (t: TestContext) => {
  if (cases.length === 0) t.skip(`parity test skipped: no case with SAM models under ${parityDir()} (set DELINEATE_PARITY)`);
});

for (const { dir, json } of cases) {
  const name = json.case ?? dir;
  test(`MedSAM parity: ${name}`, async (t) => {
    const ct = findFile(dir, json.inputs.query_ct, [join(dataDir(), 'openkbp'), dataDir(), resolve(parityDir())]);
    if (!ct) {
      t.skip(`parity case ${name} skipped: query CT ${json.inputs.query_ct} not found beside the case or under ${dataDir()}`);
      return;
    }
    const encoderFile = findFile(dir, json.models.encoder_onnx);
    const decoderFile = findFile(dir, json.models.decoder_onnx);
    assert.ok(encoderFile && decoderFile, `case ${name}: SAM models ${json.models.encoder_onnx} / ${json.models.decoder_onnx} not found`);
    const vol = readNifti(ct);
    const c = constantsOf(json.constants);
    const arr = (k: string): Typed => {
      const spec = json.arrays[k];
      assert.ok(spec, `case ${name}: array ${k} missing from case.json`);
      return loadArray(dir, spec);
    };
    const has = (k: string): boolean => k in json.arrays;

    const seg = new MedsamSegmenter({
      encoderFile, decoderFile,
      ...(json.models.encoder_onnx_sha256 ? { encoderSha256: json.models.encoder_onnx_sha256 } : {}),
      ...(json.models.decoder_onnx_sha256 ? { decoderSha256: json.models.decoder_onnx_sha256 } : {}),
      constants: c,
      cache: new EmbeddingCache({ maxEntries: 64 }),
      sliceRange: 'reference',
      postprocess: false,
      session: { intraOpNumThreads: 2 },
    });
    const range = clippedRange(vol.data, c.windowHu);
    if (typeof json.constants.clipped_volume_min === 'number') assert.equal(range.min, json.constants.clipped_volume_min);
    if (typeof json.constants.clipped_volume_max === 'number') assert.equal(range.max, json.constants.clipped_volume_max);

    const [ni, nj] = vol.dims;
    const sam = await SamOnnx.open(encoderFile, decoderFile, { intraOpNumThreads: 2 });
    for (const z of json.chosen_slices ?? []) {
      await t.test(`slice ${z}: windowed slice, 1024 image, embedding`, async () => {
        if (has(`slice${z}_pre_int32`)) {
          const ref = arr(`slice${z}_pre_int32`) as Int32Array;
          const ours = windowSlice(vol, z, c.windowHu, range);
          let diff = 0;
          for (let p = 0; p < ref.length; p++) diff = Math.max(diff, Math.abs(ref[p]! - ours[p]!));
          assert.equal(diff, 0, `slice ${z}: windowed int32 slice max |diff|`);
        }
        const img = seg.sliceImage(vol, z, range);
        assert.ok(has(`slice${z}_image_1024`), `case ${name}: chosen slice ${z} has no slice${z}_image_1024`);
        const refImg = arr(`slice${z}_image_1024`) as Uint8Array;
        const channels = json.arrays[`slice${z}_image_1024`]!.shape[2] ?? 1;
        let maxDiff = 0;
        let differing = 0;
        for (let p = 0; p < img.length; p++) {
          for (let ch = 0; ch < channels; ch++) {
            const d = Math.abs(refImg[p * channels + ch]! - img[p]!);
            if (d > maxDiff) maxDiff = d;
            if (d > 0) differing++;
          }
        }
        t.diagnostic(`slice ${z}: 1024 image max |diff| ${maxDiff}, ${differing} channel values differ`);
        assert.ok(maxDiff <= 1, `slice ${z}: 1024x1024 image max |diff| ${maxDiff} > 1 grey level`);

        const emb = await seg.embedding('parity', vol, z, range);
        if (!has(`slice${z}_embedding`)) return;
        const refEmb = arr(`slice${z}_embedding`) as Float32Array;
        let md = 0;
        let mr = 0;
        for (let p = 0; p < refEmb.length; p++) {
          md = Math.max(md, Math.abs(refEmb[p]! - emb[p]!));
          mr = Math.max(mr, Math.abs(refEmb[p]!));
        }
        t.diagnostic(`slice ${z}: embedding max |diff| ${md.toExponential(2)} (max |ref| ${mr.toFixed(3)})`);
        assert.ok(md / mr <= 1e-3, `slice ${z}: embedding relative error ${md / mr} > 1e-3`);

        for (const key of Object.keys(json.arrays).filter((k) => k.startsWith(`slice${z}_s`) && k.endsWith('_low_res_logits'))) {
          const s = /_s(\d+)_low_res/.exec(key)![1]!;
          const st = json.structures[s]!;
          const corner = st.box_corner_zyx_from_medlam[0]!;
          const box = boxTo1024({ iMin: corner[0]![2]!, jMin: corner[0]![1]!, iMax: corner[1]![2]!, jMax: corner[1]![1]! }, ni, nj, c);
          const dec = await sam.decodeBox(emb, box);
          const ref = arr(key) as Float32Array;
          let d = 0;
          let r = 0;
          for (let p = 0; p < ref.length; p++) {
            d = Math.max(d, Math.abs(ref[p]! - dec.lowRes[p]!));
            r = Math.max(r, Math.abs(ref[p]!));
          }
          assert.ok(d / r <= 1e-3, `slice ${z} structure ${s}: low-res logits relative error ${d / r}`);
        }
      });
    }

    // The whole case: every structure with its MedLAM box, the reference's slice range, no clean-up.
    const labels = Object.keys(json.structures);
    const boxesOf = (s: string): Box[] =>
      json.structures[s]!.box_corner_zyx_from_medlam.map(([mn, mx]) => ({
        min: voxelToPatient(vol, [mn![2]!, mn![1]!, mn![0]!] as Vec3),
        max: voxelToPatient(vol, [mx![2]!, mx![1]!, mx![0]!] as Vec3),
      }));
    const inputs = labels.map((s) => ({ name: json.structures[s]!.name, boxes: boxesOf(s) }));

    await t.test('slice plan and box prompts equal the reference', () => {
      const plans = planSlices(inputs.map((s) => ({ name: s.name, boxes: s.boxes.map((b) => voxelBox(vol, b.min, b.max)) })), vol.dims[2], 'reference');
      labels.forEach((s, n) => {
        if (has(`s${s}_slices`)) {
          const ref = Array.from(arr(`s${s}_slices`) as BigInt64Array, Number);
          assert.deepEqual(plans[n]!.jobs.flatMap((j) => j.slices), ref, `structure ${s}: segmented slices`);
        }
        if (has(`s${s}_boxes_1024`)) {
          const ref = arr(`s${s}_boxes_1024`) as Float64Array;
          const ours = boxTo1024(plans[n]!.jobs[0]!.box, ni, nj, c);
          assert.deepEqual(Array.from(ref.slice(0, 4)), ours, `structure ${s}: 1024 box prompt`);
        }
      });
    });

    await t.test('final 3-D masks: Dice >= 0.99 per structure', async () => {
      const result = await seg.segment({ seriesUid: 'parity', volume: vol, structures: inputs });
      labels.forEach((s, n) => {
        const ref = arr(`s${s}_mask`) as Uint8Array;
        const d = dice(result[n]!.mask, ref);
        let diffPx = 0;
        for (let p = 0; p < ref.length; p++) if (ref[p] !== result[n]!.mask[p]) diffPx++;
        t.diagnostic(`structure ${s} (${inputs[n]!.name}): Dice ${d.toFixed(6)}, ${diffPx} voxels differ`);
        assert.ok(d >= 0.99, `structure ${s} (${inputs[n]!.name}): Dice ${d} < 0.99 against the reference mask`);
      });
      // Embeddings are shared: at most one encoder run per distinct slice.
      const distinct = new Set(labels.flatMap((s) => (has(`s${s}_slices`) ? Array.from(arr(`s${s}_slices`) as BigInt64Array, Number) : [])));
      assert.ok(seg.encoderRuns <= distinct.size + (json.chosen_slices?.length ?? 0), `encoder ran ${seg.encoderRuns} times for ${distinct.size} slices`);
    });

    await t.test('slices the reference skipped (M1) are segmented by the inclusive product range', async () => {
      const extra = labels.filter((s) => has(`s${s}_extra_masks`) && (json.arrays[`s${s}_extra_slices`]?.shape[0] ?? 0) > 0);
      if (extra.length === 0) return;
      const product = new MedsamSegmenter({
        encoderFile, decoderFile, constants: c, cache: seg.cache, sliceRange: 'inclusive', postprocess: false,
        ...(json.models.encoder_onnx_sha256 ? { encoderSha256: json.models.encoder_onnx_sha256 } : {}),
        ...(json.models.decoder_onnx_sha256 ? { decoderSha256: json.models.decoder_onnx_sha256 } : {}),
        session: { intraOpNumThreads: 2 },
      });
      const res = await product.segment({ seriesUid: 'parity', volume: vol, structures: extra.map((s) => ({ name: json.structures[s]!.name, boxes: boxesOf(s) })) });
      extra.forEach((s, n) => {
        const ks = Array.from(arr(`s${s}_extra_slices`) as BigInt64Array, Number);
        const ref = arr(`s${s}_extra_masks`) as Uint8Array;
        const plane = ni * nj;
        ks.forEach((k, e) => {
          const ours = res[n]!.mask.subarray(k * plane, (k + 1) * plane);
          const d = dice(ours, ref.subarray(e * plane, (e + 1) * plane));
          assert.ok(d >= 0.99, `structure ${s} slice ${k}: Dice ${d} against the reference's extra mask`);
        });
      });
    });
  });
}
