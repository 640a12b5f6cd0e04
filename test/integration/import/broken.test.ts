/**
 * A folder of >= 200 broken and edge-case files (generated here) beside one good phantom series:
 * import finishes, every file generated to be bad lands in `skipped` with a reason, every other file
 * is accounted for (indexed or skipped), the good series is intact voxel for voxel, and loading any
 * series that came out of the mutations either works or fails with an engine error naming a file.
 * Mutations: truncations, flipped bytes, garbage element lengths, of phantom files and (when
 * ../shared/data is present) of real 4D-Lung and TotalSegmentator files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importPaths } from '../../../electron/engine/dicom/import.js';
import { DelineateError } from '../../../electron/engine/errors.js';
import { getInstances, listSeries } from '../../../electron/engine/store/archive.js';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { voxelToPatient } from '../../../electron/engine/volume/geometry.js';
import { loadVolume } from '../../../electron/engine/volume/load.js';
import { encodeDataset } from '../../fixtures/phantom/dcmjs.js';
import { phantomUid, writePhantomSeries } from '../../fixtures/phantom/phantom.js';
import { rewrite } from '../../fixtures/phantom/variants.js';
import { dataDir, tempDir } from '../../helpers/data.js';

/** Deterministic pseudo-random bytes and integers. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function flip(b: Uint8Array, at: number, mask: number): void {
  b[at] = (b[at] ?? 0) ^ mask;
}

test('>= 200 broken and edge-case files: nothing crashes or hangs, bad files skipped with reasons, good series intact', { timeout: 180_000 }, async (t) => {
  const root = tempDir(t);
  const bad = new Set<string>(); // files that must be skipped
  const other = new Set<string>(); // mutations whose outcome may go either way
  const put = (dir: string, name: string, bytes: Uint8Array | string, kind: 'bad' | 'other'): void => {
    mkdirSync(join(root, dir), { recursive: true });
    const p = join(root, dir, name);
    writeFileSync(p, bytes);
    (kind === 'bad' ? bad : other).add(p);
  };
  const r = rng(20260101);

  // The good series, first in path order so that duplicates of its files lose.
  const good = writePhantomSeries(join(root, 'a_good'), { seed: 'broken-good', slices: 12, columns: 32, rows: 32 });
  // Source files for edge cases and mutations: another series with its own UIDs.
  const src = writePhantomSeries(join(root, 'src-unused'), { seed: 'broken-src', slices: 10, columns: 32, rows: 32 });
  const srcFiles = src.files.map((f) => f.path);
  const srcBytes = srcFiles.map((p) => readFileSync(p));
  // Keep the source folder out of the import: move it below a folder we do not import.
  const importRoot = join(root, 'in');
  mkdirSync(importRoot);
  const gdir = join(importRoot, 'a_good');
  mkdirSync(gdir);
  const goodPaths = good.files.map((f) => {
    const p = join(gdir, f.path.split('/').pop()!);
    copyFileSync(f.path, p);
    return p;
  });
  const D = (name: string): string => join('in', name);

  // Not DICOM at all.
  put(D('junk'), 'readme.txt', 'hello, not DICOM\n', 'bad');
  put(D('junk'), 'data.json', '{"a": 1}', 'bad');
  put(D('junk'), 'empty.dcm', new Uint8Array(0), 'bad');
  put(D('junk'), 'one-byte.dcm', new Uint8Array([0]), 'bad');
  put(D('junk'), 'image.png', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Array(200).fill(7)]), 'bad');
  put(D('junk'), 'DICM-only.dcm', Buffer.concat([Buffer.alloc(128), Buffer.from('DICM')]), 'bad');
  for (let i = 0; i < 20; i++) {
    const n = 1 + Math.floor(r() * 4000);
    put(D('junk'), `random${i}.bin`, Uint8Array.from({ length: n }, () => Math.floor(r() * 256)), 'bad');
  }
  // DICOMDIR, multi-frame enhanced CT, unsupported transfer syntax, colour, zero rows, no pixel data.
  const edge = (name: string, edit: Parameters<typeof rewrite>[2]): void => {
    mkdirSync(join(root, D('edge')), { recursive: true });
    const p = join(root, D('edge'), name);
    rewrite(srcFiles[0]!, p, edit);
    bad.add(p);
  };
  edge('DICOMDIR', (d, m) => {
    m['00020002']!.Value = ['1.2.840.10008.1.3.10'];
    d['00080016']!.Value = ['1.2.840.10008.1.3.10'];
  });
  edge('enhanced.dcm', (d) => {
    d['00080016']!.Value = ['1.2.840.10008.5.1.4.1.1.2.1'];
    d['00080018']!.Value = [phantomUid('enh')];
    d['00280008'] = { vr: 'IS', Value: ['2'] };
  });
  edge('multiframe.dcm', (d) => {
    d['00080018']!.Value = [phantomUid('mf')];
    d['00280008'] = { vr: 'IS', Value: ['3'] };
  });
  edge('htj2k.dcm', (d, m) => {
    m['00020010']!.Value = ['1.2.840.10008.1.2.4.201'];
    d['00080018']!.Value = [phantomUid('htj2k')];
  });
  edge('rle-but-native.dcm', (d, m) => {
    m['00020010']!.Value = ['1.2.840.10008.1.2.5'];
    d['00080018']!.Value = [phantomUid('rle-native')];
  });
  edge('colour.dcm', (d) => {
    d['00280002']!.Value = [3];
    d['00080018']!.Value = [phantomUid('colour')];
  });
  edge('rows0.dcm', (d) => {
    d['00280010']!.Value = [0];
    d['00080018']!.Value = [phantomUid('rows0')];
  });
  edge('nopixels.dcm', (d) => {
    delete d['7FE00010'];
    d['00080018']!.Value = [phantomUid('nopix')];
  });
  put(D('edge'), 'sr.dcm', encodeDataset({ _meta: { TransferSyntaxUID: { Value: ['1.2.840.10008.1.2.1'] } }, SOPClassUID: '1.2.840.10008.5.1.4.1.1.88.11', SOPInstanceUID: phantomUid('sr'), Modality: 'SR' }), 'bad');
  // A series without ImagePositionPatient; a tilted series; a 4D series with nothing to split it by.
  const noIpp = writePhantomSeries(join(root, 'tmp-noipp'), { seed: 'noipp', slices: 4, columns: 16, rows: 16 });
  mkdirSync(join(root, D('noipp')));
  for (const f of noIpp.files) {
    const p = join(root, D('noipp'), f.path.split('/').pop()!);
    rewrite(f.path, p, (d) => delete d['00200032']);
    bad.add(p);
  }
  const tilted = writePhantomSeries(join(root, D('tilted')), { seed: 'tilt', slices: 6, columns: 16, rows: 16, tiltDeg: 20 });
  for (const f of tilted.files) bad.add(f.path);
  const common = { seriesUid: phantomUid('4d', 'series'), studyUid: phantomUid('4d', 'study'), frameOfReferenceUid: phantomUid('4d', 'for'), slices: 5, columns: 16, rows: 16 };
  for (const ph of ['p0', 'p1']) {
    const s = writePhantomSeries(join(root, D(`4d-${ph}`)), { ...common, seed: `4d-${ph}` });
    for (const f of s.files) bad.add(f.path);
  }
  // 4D that AcquisitionNumber tells apart: split into two series (not bad).
  const split = { seriesUid: phantomUid('4dsplit', 'series'), studyUid: phantomUid('4dsplit', 'study'), frameOfReferenceUid: phantomUid('4dsplit', 'for'), slices: 5, columns: 16, rows: 16 };
  writePhantomSeries(join(root, D('4dsplit-a')), { ...split, seed: '4dsplit-a', extra: { AcquisitionNumber: '1' } });
  writePhantomSeries(join(root, D('4dsplit-b')), { ...split, seed: '4dsplit-b', extra: { AcquisitionNumber: '2' } });
  // Duplicate SOP Instance UIDs: copies of the good files elsewhere.
  for (let i = 0; i < 5; i++) put(D('z_dups'), `dup${i}.dcm`, readFileSync(goodPaths[i]!), 'bad');
  // A localizer in the good series.
  const loc = writePhantomSeries(join(root, 'tmp-loc'), {
    seed: 'loc', seriesUid: good.seriesUid, studyUid: good.studyUid, frameOfReferenceUid: good.frameOfReferenceUid,
    slices: 1, columns: 32, rows: 32, orientation: [0, 1, 0, 0, 0, -1], extra: { ImageType: ['ORIGINAL', 'PRIMARY', 'LOCALIZER'] },
  });
  put(D('localizer'), 'scout.dcm', readFileSync(loc.files[0]!.path), 'bad');

  // Byte-level mutations of phantom files: truncations (always bad), flips and garbage lengths (either way).
  srcBytes.forEach((b, fi) => {
    for (const cut of [1, 64, 127, 131, 140, 200, 300, 600, b.length - 2048, b.length - 1]) {
      if (cut > 0 && cut < b.length) put(D('trunc'), `f${fi}-cut${cut}.dcm`, b.subarray(0, cut), 'bad');
    }
    for (let m = 0; m < 6; m++) {
      const c = Buffer.from(b);
      const flips = 1 + Math.floor(r() * 8);
      for (let f = 0; f < flips; f++) flip(c, 132 + Math.floor(r() * 900), 1 << Math.floor(r() * 8));
      put(D('flip'), `f${fi}-m${m}.dcm`, c, 'other');
    }
    for (let m = 0; m < 3; m++) {
      const c = Buffer.from(b);
      // Overwrite a 2- or 4-byte value at a random header position with 0xff bytes (undefined/huge lengths).
      const at = 132 + Math.floor(r() * 900);
      c.fill(0xff, at, at + (r() < 0.5 ? 2 : 4));
      put(D('lengths'), `f${fi}-l${m}.dcm`, c, 'other');
    }
  });
  // Real files, when present.
  const lung = join(dataDir(), '4dlung', 'ct');
  if (existsSync(lung)) {
    for (const name of readdirSync(lung).sort().slice(0, 3)) {
      const b = readFileSync(join(lung, name));
      for (const cut of [200, 1000, b.length >> 1, b.length - 1]) put(D('real-trunc'), `${name}-${cut}`, b.subarray(0, cut), 'bad');
      for (let m = 0; m < 3; m++) {
        const c = Buffer.from(b);
        flip(c, Math.floor(r() * 1200), 0xff);
        put(D('real-flip'), `${name}-m${m}`, c, 'other');
      }
    }
    const rs = join(dataDir(), '4dlung', 'rtstruct', '1-1.dcm');
    if (existsSync(rs)) {
      const b = readFileSync(rs);
      for (const cut of [300, b.length >> 2, b.length >> 1]) put(D('real-trunc'), `rs-${cut}`, b.subarray(0, cut), 'bad');
    }
  }
  const j2k = join(dataDir(), 'totalseg', 'example_ct_dicom');
  if (existsSync(j2k)) {
    for (const name of readdirSync(j2k).sort().slice(0, 2)) {
      const b = readFileSync(join(j2k, name));
      for (const cut of [500, b.length >> 1, b.length - 3]) put(D('real-trunc'), `${name}-${cut}`, b.subarray(0, cut), 'bad');
      const c = Buffer.from(b);
      for (let f = 0; f < 20; f++) flip(c, b.length - 1 - Math.floor(r() * (b.length >> 1)), 0x55);
      put(D('real-flip'), `${name}-pix`, c, 'other');
    }
  }

  const total = bad.size + other.size;
  assert.ok(total >= 200, `generated ${total} broken/edge files`);

  const db = openDatabase(':memory:');
  const res = await importPaths(db, [importRoot]);
  const skipped = new Map(res.skipped.map((s) => [s.path, s.reason]));
  for (const s of res.skipped) assert.ok(s.reason.length > 10, `empty reason for ${s.path}`);
  const missing = [...bad].filter((p) => !skipped.has(p));
  assert.deepEqual(missing, [], `bad files not in skipped: ${missing.join(', ')}`);
  // Every file is accounted for: skipped, an instance of some series, or an object.
  const indexed = new Set<string>();
  for (const s of listSeries(db)) for (const i of getInstances(db, s.seriesUid)) indexed.add(i.path);
  for (const o of res.objects) indexed.add(o.path);
  for (const p of other) assert.ok(skipped.has(p) || indexed.has(p), `${p} neither indexed nor skipped`);
  for (const p of goodPaths) assert.ok(!skipped.has(p), `good file skipped: ${skipped.get(p)}`);

  // The good series: all 12 slices, geometry and voxels as generated; the localizer was dropped.
  const gs = listSeries(db).find((s) => s.seriesUid === good.seriesUid)!;
  assert.deepEqual(gs.dims, [32, 32, 12]);
  assert.deepEqual(gs.origin, good.geometry.origin);
  assert.match(skipped.get(join(root, D('localizer'), 'scout.dcm'))!, /localizer/);
  const v = await loadVolume(db, good.seriesUid);
  for (let k = 0; k < 12; k++)
    for (let j = 0; j < 32; j++)
      for (let i = 0; i < 32; i++) assert.equal(v.data[i + 32 * (j + 32 * k)], good.huAt(voxelToPatient(v, [i, j, k])));
  // The 4D pair that AcquisitionNumber separates became two series with a warning.
  assert.ok(res.warnings.some((w) => /split into 2 series/.test(w.message)));
  assert.equal(listSeries(db).filter((s) => s.dims[0] === 16 && s.dims[2] === 5).length, 2);

  // Every series that came out of the mutations loads or fails with an engine error naming a file.
  for (const s of listSeries(db)) {
    try {
      await loadVolume(db, s.seriesUid);
    } catch (e) {
      assert.ok(e instanceof DelineateError, `series ${s.seriesUid}: ${String(e)}`);
      assert.match(e.message, /\//);
    }
  }
  // And a second run over the same folder adds nothing.
  const before = listSeries(db);
  await importPaths(db, [importRoot]);
  assert.deepEqual(listSeries(db), before);
  t.diagnostic(`${total} broken/edge files, ${res.skipped.length} skipped, ${listSeries(db).length} series`);
});
