/**
 * Volumes as loadVolume returns them since slices decode on worker threads and integral CT stays
 * int16: in every transfer syntax the phantom can be written in, the worker path and the inline path
 * give the same int16 voxels, and those equal pydicom's stored value x RescaleSlope +
 * RescaleIntercept (an independent decoder; for the JPEG syntaxes, which pydicom cannot decode
 * without plugins, the phantom's own HU). A fractional slope or values past int16 give float32 with
 * the exact values. A file that breaks after import fails in a worker with an InputError naming it.
 * Also 4D-Lung (99 real slices) against pydicom, when ../shared/data is there.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, truncateSync } from 'node:fs';
import { basename, join } from 'node:path';
import { InputError } from '../../../electron/engine/errors.js';
import { importPaths } from '../../../electron/engine/dicom/import.js';
import { getInstances } from '../../../electron/engine/store/archive.js';
import { openDatabase, type Db } from '../../../electron/engine/store/db.js';
import { voxelToPatient } from '../../../electron/engine/volume/geometry.js';
import { loadVolume } from '../../../electron/engine/volume/load.js';
import type { CtVolume } from '../../../electron/engine/volume/volume.js';
import { writePhantomSeries, type PhantomSeries } from '../../fixtures/phantom/phantom.js';
import { rewrite, toBigEndian, toDeflated } from '../../fixtures/phantom/variants.js';
import { requireData, tempDir } from '../../helpers/data.js';

const PY = '/usr/bin/python3';
const hasPydicom = spawnSync(PY, ['-c', 'import pydicom, numpy'], { encoding: 'utf8' }).status === 0;

/** pydicom's HU of each file (float64, row-major like ours), in the order given. */
function pydicomHu(files: string[]): Float64Array[] {
  const script = [
    'import sys, pydicom, numpy as np',
    'for f in sys.argv[1:]:',
    '    ds = pydicom.dcmread(f)',
    '    a = ds.pixel_array.astype(np.float64) * float(getattr(ds, "RescaleSlope", 1)) + float(getattr(ds, "RescaleIntercept", 0))',
    '    sys.stdout.buffer.write(a.tobytes())',
  ].join('\n');
  const r = spawnSync(PY, ['-c', script, ...files], { maxBuffer: 1 << 30 });
  assert.equal(r.status, 0, r.stderr.toString());
  const all = new Float64Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.byteLength / 8);
  const n = all.length / files.length;
  return files.map((_, i) => all.subarray(i * n, (i + 1) * n));
}

/** Each stored instance's slice of `v` equals `ref(path)` voxel for voxel. */
function assertSlices(db: Db, uid: string, v: CtVolume, ref: Map<string, ArrayLike<number>>, what: string): void {
  const n = v.dims[0] * v.dims[1];
  for (const inst of getInstances(db, uid)) {
    const want = ref.get(inst.path)!;
    const k = inst.sliceIndex!;
    for (let i = 0; i < n; i++) {
      if (v.data[k * n + i] !== want[i]) assert.fail(`${what}: ${basename(inst.path)} voxel ${i}: ${v.data[k * n + i]}, reference ${want[i]}`);
    }
  }
}

async function loadBoth(db: Db, uid: string): Promise<CtVolume> {
  const pooled = await loadVolume(db, uid, { workers: 2 });
  const inline = await loadVolume(db, uid, { workers: 0 });
  assert.equal(pooled.data.constructor, inline.data.constructor);
  assert.deepEqual(pooled.data, inline.data, 'worker and inline decodes differ');
  return pooled;
}

function phantomHu(ph: PhantomSeries, v: CtVolume): void {
  const [nx, ny, nz] = v.dims;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const want = ph.huAt(voxelToPatient(v, [i, j, k]));
        if (v.data[i + nx * (j + ny * k)] !== want) assert.fail(`voxel (${i},${j},${k}): ${v.data[i + nx * (j + ny * k)]}, phantom ${want}`);
      }
}

/** `make` writes an encoded copy of one file (false: its tool is not installed); none: the phantom as written. */
type Variant = { name: string; make?: (src: string, dst: string) => boolean; pydicom: boolean; implicit?: boolean };

const dcmtk = (tool: string, args: string[]) => (src: string, dst: string): boolean => {
  const r = spawnSync(tool, [...args, src, dst], { encoding: 'utf8' });
  if (r.error) return false;
  assert.equal(r.status, 0, r.stderr);
  return true;
};

const VARIANTS: Variant[] = [
  { name: 'explicit VR little endian', pydicom: true },
  { name: 'implicit VR little endian', pydicom: true, implicit: true },
  { name: 'explicit VR big endian', make: (s, d) => (toBigEndian(s, d), true), pydicom: true },
  { name: 'deflated explicit VR little endian', make: (s, d) => (toDeflated(s, d), true), pydicom: true },
  { name: 'RLE lossless', make: dcmtk('dcmcrle', []), pydicom: true },
  { name: 'JPEG-LS lossless', make: dcmtk('dcmcjpls', []), pydicom: false },
  { name: 'JPEG lossless process 14', make: dcmtk('dcmcjpeg', ['+el']), pydicom: false },
];

for (const variant of VARIANTS) {
  test(`${variant.name}: int16 volume, same on worker threads and inline, equal to the reference decode`, async (t) => {
    const dir = tempDir(t);
    const ph = writePhantomSeries(join(dir, 'src'), {
      seed: `int16-${variant.name}`,
      slices: 10,
      columns: 40,
      rows: 36,
      ...(variant.implicit ? { transferSyntax: 'implicit-le' as const } : {}),
    });
    let folder = join(dir, 'src');
    if (variant.make) {
      folder = join(dir, 'enc');
      mkdirSync(folder);
      for (const f of ph.files) {
        if (!variant.make(f.path, join(folder, basename(f.path)))) return t.skip(`${variant.name}: dcmtk not installed`);
      }
    }
    const db = openDatabase(':memory:');
    assert.deepEqual((await importPaths(db, [folder])).skipped, []);
    const v = await loadBoth(db, ph.seriesUid);
    assert.ok(v.data instanceof Int16Array, `${variant.name}: ${v.data.constructor.name}`);
    phantomHu(ph, v);
    if (variant.pydicom && hasPydicom) {
      const files = getInstances(db, ph.seriesUid).map((i) => i.path);
      const hu = pydicomHu(files);
      assertSlices(db, ph.seriesUid, v, new Map(files.map((f, i) => [f, hu[i]!])), variant.name);
    } else if (variant.pydicom) t.diagnostic('pydicom not importable by /usr/bin/python3: compared with the phantom only');
  });
}

/** A phantom whose slices are rewritten with other RescaleSlope/RescaleIntercept. */
async function rescaled(t: TestContext, slope: string, intercept: string): Promise<{ db: Db; ph: PhantomSeries; folder: string }> {
  const dir = tempDir(t);
  const ph = writePhantomSeries(join(dir, 'src'), { seed: `rescale-${slope}-${intercept}`, slices: 9, columns: 24, rows: 20 });
  const folder = join(dir, 'rescaled');
  mkdirSync(folder);
  for (const f of ph.files) {
    rewrite(f.path, join(folder, basename(f.path)), (dict) => {
      dict['00281053'] = { vr: 'DS', Value: [slope] };
      dict['00281052'] = { vr: 'DS', Value: [intercept] };
    });
  }
  const db = openDatabase(':memory:');
  assert.deepEqual((await importPaths(db, [folder])).skipped, []);
  return { db, ph, folder };
}

/** The phantom's stored values (HU + 1024, unsigned) under another modality LUT (rounded to float32, which integers in int16 are exactly). */
function expectFloat(db: Db, ph: PhantomSeries, v: CtVolume, slope: number, intercept: number): void {
  const [nx, ny, nz] = v.dims;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const stored = ph.huAt(voxelToPatient(v, [i, j, k])) + 1024;
        const want = Math.fround(stored * slope + intercept);
        if (v.data[i + nx * (j + ny * k)] !== want) assert.fail(`voxel (${i},${j},${k}): ${v.data[i + nx * (j + ny * k)]}, want ${want}`);
      }
}

test('an integer RescaleSlope other than 1 stays int16, with the exact values', async (t) => {
  const { db, ph } = await rescaled(t, '2', '-2048');
  const v = await loadBoth(db, ph.seriesUid);
  assert.ok(v.data instanceof Int16Array);
  expectFloat(db, ph, v, 2, -2048);
});

test('a fractional RescaleSlope gives a float32 volume with the exact values', async (t) => {
  const { db, ph } = await rescaled(t, '0.5', '-512.25');
  const v = await loadBoth(db, ph.seriesUid);
  assert.ok(v.data instanceof Float32Array);
  expectFloat(db, ph, v, 0.5, -512.25);
});

test('integral values past int16 give a float32 volume, not wrapped ones', async (t) => {
  const { db, ph } = await rescaled(t, '1', '32000');
  const v = await loadBoth(db, ph.seriesUid);
  assert.ok(v.data instanceof Float32Array);
  expectFloat(db, ph, v, 1, 32000);
  assert.ok(Math.max(...v.data) > 32767);
});

test('two series loading at once on the same workers each get their own slices', async (t) => {
  const dir = tempDir(t);
  const a = writePhantomSeries(join(dir, 'a'), { seed: 'int16-concurrent-a', slices: 12, columns: 24, rows: 20 });
  const b = writePhantomSeries(join(dir, 'b'), { seed: 'int16-concurrent-b', slices: 9, columns: 30, rows: 26, origin: [-40, 7, 12] });
  const db = openDatabase(':memory:');
  await importPaths(db, [dir]);
  const [va, vb] = await Promise.all([loadVolume(db, a.seriesUid, { workers: 2 }), loadVolume(db, b.seriesUid, { workers: 2 })]);
  phantomHu(a, va);
  phantomHu(b, vb);
});

test('a file cut after import fails on a worker thread with an InputError naming it', async (t) => {
  const dir = tempDir(t);
  const ph = writePhantomSeries(join(dir, 'ct'), { seed: 'int16-cut', slices: 10, columns: 24, rows: 20 });
  const db = openDatabase(':memory:');
  await importPaths(db, [dir]);
  const victim = ph.files[6]!.path;
  truncateSync(victim, 600);
  await assert.rejects(loadVolume(db, ph.seriesUid, { workers: 2 }), (e: Error) => {
    assert.ok(e instanceof InputError, `${e.name}: ${e.message}`);
    assert.ok(e.message.includes(victim), e.message);
    return true;
  });
});

test('4D-Lung: every voxel equals pydicom\'s HU', async (t) => {
  const folder = requireData(t, '4dlung/ct');
  if (!folder) return;
  if (!hasPydicom) return t.skip('pydicom not importable by /usr/bin/python3');
  const db = openDatabase(':memory:');
  const r = await importPaths(db, [folder]);
  const uid = r.series[0]!.seriesUid;
  const v = await loadVolume(db, uid);
  assert.ok(v.data instanceof Int16Array);
  const files = getInstances(db, uid).map((i) => i.path);
  const hu = pydicomHu(files);
  assertSlices(db, uid, v, new Map(files.map((f, i) => [f, hu[i]!])), '4D-Lung');
});
