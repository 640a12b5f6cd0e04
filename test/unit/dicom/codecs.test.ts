/**
 * Compressed transfer syntaxes decode to the phantom's HU: RLE (dcmcrle), JPEG-LS lossless
 * (dcmcjpls), JPEG lossless process 14 SV1 (dcmcjpeg), each encoded by dcmtk as an independent
 * encoder (skipped when dcmtk is absent), plus the RLE decoder on a hand-built PackBits stream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { decodeRle } from '../../../electron/engine/dicom/codecs/rle.js';
import { importPaths } from '../../../electron/engine/dicom/import.js';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { voxelToPatient } from '../../../electron/engine/volume/geometry.js';
import { loadVolume } from '../../../electron/engine/volume/load.js';
import { writePhantomSeries } from '../../fixtures/phantom/phantom.js';
import { tempDir } from '../../helpers/data.js';

test('RLE: PackBits literal and replicate runs, high byte plane first (PS3.5 G.3)', () => {
  // Two 16-bit pixels: 0x1234, 0x1256. Segment 0 (high bytes): replicate 0x12 twice; segment 1: literal 34 56.
  const seg0 = [0xff, 0x12]; // -1 => repeat next byte 2 times
  const seg1 = [0x01, 0x34, 0x56]; // 1 => copy 2 bytes
  const header = new Uint8Array(64);
  const view = new DataView(header.buffer);
  view.setUint32(0, 2, true);
  view.setUint32(4, 64, true);
  view.setUint32(8, 64 + seg0.length, true);
  const frame = new Uint8Array([...header, ...seg0, ...seg1]);
  const out = decodeRle(frame, 2, 2, 'x');
  assert.deepEqual([...new Uint16Array(out.buffer)], [0x1234, 0x1256]);
  assert.throws(() => decodeRle(frame.subarray(0, 66), 2, 2, 'short.dcm'), /short\.dcm/);
});

const TOOLS: [string, string, string[]][] = [
  ['RLE Lossless', 'dcmcrle', []],
  ['JPEG-LS Lossless', 'dcmcjpls', []],
  ['JPEG Lossless SV1', 'dcmcjpeg', ['+e1']],
  ['JPEG Lossless process 14', 'dcmcjpeg', ['+el']],
];

for (const [name, tool, args] of TOOLS) {
  test(`${name} (${tool}) decodes to the phantom's HU`, async (t) => {
    if (spawnSync(tool, ['--version'], { encoding: 'utf8' }).error) {
      t.skip(`${tool} (dcmtk) not installed`);
      return;
    }
    const dir = tempDir(t);
    const ph = writePhantomSeries(join(dir, 'src'), { seed: `codec-${tool}`, slices: 3, columns: 40, rows: 36 });
    const out = join(dir, 'enc');
    mkdirSync(out);
    for (const f of ph.files) {
      const r = spawnSync(tool, [...args, f.path, join(out, basename(f.path))], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
    const db = openDatabase(':memory:');
    const res = await importPaths(db, [out]);
    assert.deepEqual(res.skipped, []);
    const v = await loadVolume(db, ph.seriesUid);
    const [nx, ny, nz] = v.dims;
    for (let k = 0; k < nz; k++)
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++) {
          const want = ph.huAt(voxelToPatient(v, [i, j, k]));
          const got = v.data[i + nx * (j + ny * k)];
          if (got !== want) assert.fail(`${name}: voxel (${i},${j},${k}) ${got}, phantom ${want}`);
        }
  });
}

test('JPEG baseline (8-bit, dcmcjpeg +eb) decodes like dcmtk decodes it (within one stored step)', async (t) => {
  if (spawnSync('dcmcjpeg', ['--version']).error || spawnSync('dcmdjpeg', ['--version']).error) {
    t.skip('dcmcjpeg/dcmdjpeg (dcmtk) not installed');
    return;
  }
  const dir = tempDir(t);
  const ph = writePhantomSeries(join(dir, 'src'), { seed: 'jpeg8', slices: 3, columns: 40, rows: 36, bitsAllocated: 8 });
  for (const sub of ['jpeg', 'ref']) mkdirSync(join(dir, sub));
  for (const f of ph.files) {
    const name = basename(f.path);
    const enc = spawnSync('dcmcjpeg', ['+eb', '+q', '95', f.path, join(dir, 'jpeg', name)], { encoding: 'utf8' });
    assert.equal(enc.status, 0, enc.stderr);
    const dec = spawnSync('dcmdjpeg', [join(dir, 'jpeg', name), join(dir, 'ref', name)], { encoding: 'utf8' });
    assert.equal(dec.status, 0, dec.stderr);
  }
  const db1 = openDatabase(':memory:');
  const r1 = await importPaths(db1, [join(dir, 'jpeg')]);
  assert.deepEqual(r1.skipped, []);
  const ours = await loadVolume(db1, ph.seriesUid);
  const db2 = openDatabase(':memory:');
  await importPaths(db2, [join(dir, 'ref')]);
  const ref = await loadVolume(db2, ph.seriesUid);
  let maxDiff = 0;
  for (let i = 0; i < ours.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours.data[i]! - ref.data[i]!));
  // One stored step is 8 HU (RescaleSlope 8); IDCT implementations may differ by one.
  assert.ok(maxDiff <= 8, `max difference ${maxDiff} HU between libjpeg-turbo and dcmtk`);
});
