/**
 * A fixed-seed slice of `npm run bench -- fuzz`: every reader of outside bytes gets a few dozen
 * mutated cases (in a worker, 10 s and 1 GB limits) and must accept or refuse each with an engine
 * error naming the file: no crash, hang, memory blow-up or unnamed refusal. Plus the findings of
 * longer runs, as fixtures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSliceHu } from '../../../electron/engine/dicom/pixels.js';
import { readHeader } from '../../../electron/engine/dicom/header.js';
import { readNifti, readNiftiLabels, writeNifti } from '../../../electron/engine/nifti/nifti.js';
import { fuzzTarget, TARGETS } from '../../fuzz/harness.js';
import { concat, elementsOf } from '../../fuzz/mutate.js';
import { contoursToMask } from '../../../electron/engine/contours/rasterize.js';
import { readPart10, toPart10, type Naturalized } from '../../../electron/engine/rtstruct/dcmjs.js';
import { readRtstruct } from '../../../electron/engine/rtstruct/read.js';
import { MILLION_MARKER, rtstructTarget, withMillionPoints } from '../../fuzz/targets.js';
import { writePhantomSeries } from '../../fixtures/phantom/phantom.js';
import { tempDir } from '../../helpers/data.js';

/** Cases per target: about 60 s of the 2-core CI machine in all. */
const SLICE: Record<string, number> = { dicom: 60, pixels: 30, rtstruct: 25, nifti: 60, labels: 40, manifest: 40, bridge: 40, pdu: 20 };

for (const t of TARGETS) {
  test(`fuzz slice: ${t.name}, ${SLICE[t.name] ?? 20} cases, seed 20261203: no crash, hang, blow-up or unnamed refusal`, { timeout: 120_000 }, async (tc) => {
    if (t.name === 'pixels' && spawnSync('dcmcjpls', ['--version']).error) return tc.skip('dcmtk encoders absent: no compressed seeds');
    const r = await fuzzTarget(t, { n: SLICE[t.name] ?? 20, seed: 20261203, workDir: join(tempDir(tc), 'work') });
    tc.diagnostic(`${t.name}: ${JSON.stringify(r.counts)} in ${r.seconds.toFixed(1)} s`);
    assert.deepEqual(r.findings, []);
    assert.equal(r.counts.accepted + r.counts.refused, r.cases);
  });
}

test('finding: a JPEG-LS codestream cut before its end-of-image marker is refused naming the file (the decoder looped forever on it)', async (t) => {
  if (spawnSync('dcmcjpls', ['--version']).error) return t.skip('dcmcjpls (dcmtk) absent');
  const dir = tempDir(t);
  const ph = writePhantomSeries(join(dir, 'ct'), { seed: 'jls-cut', columns: 24, rows: 20, slices: 1 });
  const enc = join(dir, 'jls.dcm');
  assert.equal(spawnSync('dcmcjpls', [ph.files[0]!.path, enc]).status, 0);
  const b = new Uint8Array(readFileSync(enc));
  const px = elementsOf(b).find((e) => e.tag === 0x7fe00010)!;
  // Items: the empty offset table, then the one fragment; keep its first 62 bytes (as fuzz case pixels/1/2).
  const dv = new DataView(b.buffer);
  const frag = px.valueAt + 8 + dv.getUint32(px.valueAt + 4, true);
  const len = dv.getUint32(frag + 4, true);
  assert.ok(len > 62);
  dv.setUint32(frag + 4, 62, true);
  const cut = join(dir, 'cut.dcm');
  writeFileSync(cut, concat(b.subarray(0, frag + 8 + 62), b.subarray(frag + 8 + len)));
  const h = readHeader(cut, readFileSync(cut), 0, 0);
  assert.equal(h.kind, 'image');
  if (h.kind !== 'image') return;
  await assert.rejects(decodeSliceHu(cut, { rows: h.rows, columns: h.columns }, new Float32Array(h.rows * h.columns), 0), (e: Error) => {
    assert.match(e.message, /truncated compressed pixel data in .*cut\.dcm.*end-of-image marker/);
    return true;
  });
});

test('finding: NIfTI headers with a negative dimension or an image not a whole number of samples are refused naming the file (they threw RangeError)', (t) => {
  const dir = tempDir(t);
  const base = join(dir, 'v.nii');
  writeNifti(base, { dims: [12, 10, 6], spacing: [2, 2, 3], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data: new Int16Array(720) });
  const src = readFileSync(base);
  const negative = Buffer.from(src);
  negative.writeInt16LE(-1, 44); // dim[2]
  writeFileSync(join(dir, 'neg.nii'), negative);
  assert.throws(() => readNifti(join(dir, 'neg.nii')), /neg\.nii declares an invalid size 12x-1x6/);
  const odd = Buffer.concat([src, Buffer.from([1])]);
  odd.writeInt16LE(16, 70); // datatype FLOAT32 over an odd-length image
  odd.writeInt16LE(32, 72);
  writeFileSync(join(dir, 'odd.nii'), odd);
  assert.throws(() => readNifti(join(dir, 'odd.nii')), /odd\.nii is truncated/);
  assert.throws(() => readNiftiLabels(join(dir, 'neg.nii')), /neg\.nii declares an invalid size/);
});

test('finding: a contour of 300,000 points rasterizes instead of overflowing the call stack (Math.max over a spread array)', () => {
  const g = { dims: [24, 20, 4] as [number, number, number], spacing: [2, 2, 3] as [number, number, number], origin: [-23, -19, -100] as [number, number, number], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] as [number, number, number, number, number, number, number, number, number] };
  const ring = Array.from({ length: 300_000 }, (_, i): [number, number, number] => [10 * Math.cos((2 * Math.PI * i) / 300_000), 10 * Math.sin((2 * Math.PI * i) / 300_000), -97]);
  const r = contoursToMask([ring], g);
  let n = 0;
  for (const v of r.mask) n += v;
  assert.ok(n > 50 && n < 100, `${n} voxels inside a 10 mm circle on a 2 mm grid`);
});

test('finding: an RTSTRUCT with a contour of a million points is refused naming the file, before dcmjs spends > 10 s parsing it', (t) => {
  const dir = tempDir(t);
  const seed = rtstructTarget.seeds(join(dir, 'seeds'))[0]![0];
  const src = join(dir, 'seed.dcm');
  writeFileSync(src, seed!);
  const ds = readPart10(src).dataset;
  const roi = (ds.ROIContourSequence as Naturalized[])[0]!;
  (roi.ContourSequence as Naturalized[])[0]!.ContourData = [MILLION_MARKER];
  const big = withMillionPoints(toPart10(ds, '1.2.840.10008.1.2'));
  assert.ok(big.length > 10_000_000);
  const file = join(dir, 'million.dcm');
  writeFileSync(file, big);
  assert.throws(() => readRtstruct(file), /RTSTRUCT .*million\.dcm: a contour holds .* MB of ContourData.*more than 4 MB per contour is refused/);
});
