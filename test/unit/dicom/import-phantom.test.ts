/**
 * Import of the synthetic phantom (no real data needed): geometry and HU at every voxel for the
 * plain, shuffled, oblique and gapped variants; tilt refused; transfer syntaxes; character sets;
 * RT objects with their referenced series; idempotent and incremental re-import.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { importPaths } from '../../../electron/engine/dicom/import.js';
import { getInstances, getObjects, getSeries, listSeries } from '../../../electron/engine/store/archive.js';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { loadVolume } from '../../../electron/engine/volume/load.js';
import { voxelToPatient, type Vec3 } from '../../../electron/engine/volume/geometry.js';
import type { CtVolume } from '../../../electron/engine/volume/volume.js';
import { writePhantomSeries, type PhantomSeries } from '../../fixtures/phantom/phantom.js';
import { toBigEndian, toDeflated, withoutMeta, withoutPreamble, writeRtdoseFor, writeRtstructFor, writeSegFor } from '../../fixtures/phantom/variants.js';
import { tempDir } from '../../helpers/data.js';

function close(a: readonly number[], b: readonly number[], tol: number, what: string): void {
  assert.equal(a.length, b.length, what);
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]!) <= tol, `${what}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`));
}

/** Every voxel equals the phantom's HU at that voxel's patient position (skipping boundary-adjacent ties). */
function assertVoxels(v: CtVolume, ph: PhantomSeries, opts: { everyK?: number } = {}): void {
  const [nx, ny, nz] = v.dims;
  let checked = 0;
  for (let k = 0; k < nz; k += opts.everyK ?? 1) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const p: Vec3 = voxelToPatient(v, [i, j, k]);
        const want = ph.huAt(p);
        const got = v.data[i + nx * (j + ny * k)]!;
        if (got !== want) assert.fail(`voxel (${i},${j},${k}) at ${p.map((x) => x.toFixed(2))}: ${got} HU, phantom says ${want}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 0);
}

test('plain phantom: geometry as generated, every voxel in HU, instances inferior to superior', async (t) => {
  const dir = tempDir(t);
  const ph = writePhantomSeries(join(dir, 'ct'), { seed: 'plain' });
  const db = openDatabase(':memory:');
  const r = await importPaths(db, [dir]);
  assert.equal(r.series.length, 1);
  assert.deepEqual(r.skipped, []);
  const s = r.series[0]!;
  assert.equal(s.seriesUid, ph.seriesUid);
  assert.equal(s.frameOfReferenceUid, ph.frameOfReferenceUid);
  assert.deepEqual(s.dims, ph.geometry.dims);
  close(s.spacing, ph.geometry.spacing, 1e-6, 'spacing');
  close(s.origin, ph.geometry.origin, 1e-6, 'origin');
  close(s.direction, ph.geometry.direction, 1e-9, 'direction');
  const inst = getInstances(db, s.seriesUid);
  assert.deepEqual(inst.map((x) => x.sliceIndex), inst.map((_, k) => k));
  for (let k = 1; k < inst.length; k++) assert.ok(inst[k]!.position[2] > inst[k - 1]!.position[2]);
  assertVoxels(await loadVolume(db, s.seriesUid), ph);
});

test('shuffled files and InstanceNumbers: sorted by position, not by number', async (t) => {
  const dir = tempDir(t);
  const ph = writePhantomSeries(dir, { seed: 'shuffled', shuffle: true, slices: 12 });
  const db = openDatabase(':memory:');
  const r = await importPaths(db, [dir]);
  close(r.series[0]!.origin, ph.geometry.origin, 1e-6, 'origin');
  const inst = getInstances(db, ph.seriesUid);
  const bySop = new Map(ph.files.map((f) => [f.sopInstanceUid, f.sliceIndex]));
  assert.deepEqual(inst.map((x) => bySop.get(x.sopInstanceUid)), inst.map((_, k) => k));
  assertVoxels(await loadVolume(db, ph.seriesUid), ph);
});

test('oblique phantom: direction from ImageOrientationPatient, voxels in place', async (t) => {
  const dir = tempDir(t);
  const c = Math.cos(0.5);
  const s = Math.sin(0.5);
  const ph = writePhantomSeries(dir, { seed: 'oblique', orientation: [c, s, 0, -s * 0.6, c * 0.6, -0.8], slices: 10, columns: 48, rows: 40 });
  const db = openDatabase(':memory:');
  const r = await importPaths(db, [dir]);
  close(r.series[0]!.direction, ph.geometry.direction, 1e-5, 'direction');
  close(r.series[0]!.origin, ph.geometry.origin, 1e-4, 'origin');
  assertVoxels(await loadVolume(db, ph.seriesUid), ph);
});

test('gapped phantom: warning names the gap, missing slice interpolated on the uniform grid', async (t) => {
  const dir = tempDir(t);
  const ph = writePhantomSeries(dir, { seed: 'gapped', slices: 10, dropSlices: [4] });
  const db = openDatabase(':memory:');
  const r = await importPaths(db, [dir]);
  assert.deepEqual(r.series[0]!.dims, [64, 64, 10]);
  assert.equal(r.series[0]!.instances, 9);
  assert.ok(r.warnings.some((w) => /non-uniform slice spacing/.test(w.message) && /6\.00 mm after slice 3/.test(w.message)), JSON.stringify(r.warnings));
  const v = await loadVolume(db, ph.seriesUid);
  const n = 64 * 64;
  // Slices 3 and 5 are exact; slice 4 is their mean.
  for (let i = 0; i < n; i++) {
    const a = v.data[3 * n + i]!;
    const b = v.data[5 * n + i]!;
    assert.equal(v.data[4 * n + i], (a + b) / 2);
  }
  const inst = getInstances(db, ph.seriesUid);
  assert.deepEqual(inst.map((x) => x.sliceIndex), [0, 1, 2, 3, 5, 6, 7, 8, 9]);
});

test('tilted phantom is refused with a reason for every file', async (t) => {
  const dir = tempDir(t);
  const ph = writePhantomSeries(dir, { seed: 'tilted', slices: 8, tiltDeg: 12 });
  const db = openDatabase(':memory:');
  const r = await importPaths(db, [dir]);
  assert.equal(r.series.length, 0);
  assert.equal(r.skipped.length, ph.files.length);
  for (const s of r.skipped) assert.match(s.reason, /12\.0 degrees off the slice normal/);
});

test('transfer syntaxes and file framings decode to the same HU', async (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  const ph = writePhantomSeries(src, { seed: 'ts', slices: 5, signed: true });
  const cases: [string, (a: string, b: string) => void][] = [
    ['be', toBigEndian],
    ['deflate', toDeflated],
    ['nopreamble', withoutPreamble],
  ];
  const implicitSrc = join(dir, 'implicit-src');
  const phi = writePhantomSeries(implicitSrc, { seed: 'ts', slices: 5, signed: true, transferSyntax: 'implicit-le' });
  for (const [name, fn] of cases) {
    const out = join(dir, name);
    mkdirSync(out);
    for (const f of ph.files) fn(f.path, join(out, f.path.split('/').pop()!));
    const db = openDatabase(':memory:');
    const r = await importPaths(db, [out]);
    assert.deepEqual(r.skipped, [], name);
    assert.equal(r.series.length, 1, name);
    assertVoxels(await loadVolume(db, ph.seriesUid), ph);
  }
  // Raw implicit-LE dataset, no preamble and no meta group.
  const raw = join(dir, 'raw');
  mkdirSync(raw);
  for (const f of phi.files) withoutMeta(f.path, join(raw, f.path.split('/').pop()!));
  const db = openDatabase(':memory:');
  const r = await importPaths(db, [raw]);
  assert.deepEqual(r.skipped, []);
  assertVoxels(await loadVolume(db, phi.seriesUid), phi);
});

test('character sets: ISO_IR 192 (UTF-8) and ISO_IR 100 (Latin-1) names decode', async (t) => {
  const dir = tempDir(t);
  writePhantomSeries(join(dir, 'utf8'), { seed: 'cs1', slices: 2, patientName: 'Müller^Jürgen=山田^太郎', specificCharacterSet: 'ISO_IR 192' });
  const lat = writePhantomSeries(join(dir, 'latin1'), { seed: 'cs2', slices: 2, patientName: 'M_ller^J_rgen', specificCharacterSet: 'ISO_IR 100' });
  // dcmjs writes UTF-8; put real Latin-1 bytes (0xFC = ü) in place of the placeholders.
  for (const f of lat.files) {
    const b = readFileSync(f.path);
    const at = b.indexOf('M_ller^J_rgen');
    b[at + 1] = 0xfc;
    b[at + 8] = 0xfc;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(f.path, b);
  }
  const db = openDatabase(':memory:');
  await importPaths(db, [dir]);
  const names = listSeries(db).map((s) => s.patientName).sort();
  assert.deepEqual(names, ['Müller^Jürgen', 'Müller^Jürgen=山田^太郎']);
});

test('RTSTRUCT, RTDOSE and SEG are indexed as objects with the series they reference', async (t) => {
  const dir = tempDir(t);
  const ph = writePhantomSeries(join(dir, 'ct'), { seed: 'rt', slices: 4 });
  mkdirSync(join(dir, 'rt'));
  const rs = writeRtstructFor(ph, join(dir, 'rt', 'rs.dcm'));
  const rd = writeRtdoseFor(ph, join(dir, 'rt', 'rd.dcm'));
  const seg = writeSegFor(ph, join(dir, 'rt', 'seg.dcm'));
  const db = openDatabase(':memory:');
  const r = await importPaths(db, [dir]);
  const byUid = new Map(r.objects.map((o) => [o.sopInstanceUid, o]));
  assert.equal(byUid.get(rs)?.modality, 'RTSTRUCT');
  assert.equal(byUid.get(rs)?.referencedSeriesUid, ph.seriesUid);
  assert.equal(byUid.get(rd)?.modality, 'RTDOSE');
  assert.equal(byUid.get(rd)?.referencedSeriesUid, ph.seriesUid);
  assert.equal(byUid.get(seg)?.modality, 'SEG');
  assert.equal(byUid.get(seg)?.referencedSeriesUid, ph.seriesUid);
  assert.equal(getObjects(db, { referencedSeriesUid: ph.seriesUid }).length, 3);
  // The RTDOSE names no series: attached by frame of reference, with a warning saying so.
  assert.ok(r.warnings.some((w) => w.path?.endsWith('rd.dcm') && /frame of reference/.test(w.message)));
});

test('idempotent and incremental: same folder twice adds nothing; new slices join the series', async (t) => {
  const dir = tempDir(t);
  const ph = writePhantomSeries(dir, { seed: 'incr', slices: 8 });
  // Hold back the top two slices, import, then add them.
  const held = ph.files.filter((f) => f.sliceIndex >= 6);
  const aside = tempDir(t);
  for (const f of held) renameSync(f.path, join(aside, f.path.split('/').pop()!));
  const db = openDatabase(':memory:');
  const r1 = await importPaths(db, [dir]);
  assert.deepEqual(r1.series[0]!.dims, [64, 64, 6]);
  const r2 = await importPaths(db, [dir]);
  assert.deepEqual(r2, r1);
  for (const f of held) renameSync(join(aside, f.path.split('/').pop()!), f.path);
  const r3 = await importPaths(db, [dir]);
  assert.equal(listSeries(db).length, 1);
  assert.deepEqual(r3.series[0]!.dims, [64, 64, 8]);
  assert.equal(getSeries(db, ph.seriesUid).instances, 8);
  assertVoxels(await loadVolume(db, ph.seriesUid), ph);
  // A removed file is no longer readable at load: loadVolume names it.
  unlinkSync(ph.files[0]!.path);
  await assert.rejects(loadVolume(db, ph.seriesUid), (e: Error) => e.message.includes(ph.files[0]!.path));
});

test('getSeries of an unknown UID is a NotFoundError naming it', () => {
  const db = openDatabase(':memory:');
  assert.throws(() => getSeries(db, '1.2.3.4'), (e: Error) => e.name === 'NotFoundError' && e.message.includes('1.2.3.4'));
});

test('empty Study/Series UIDs: stable generated UIDs and a warning; several series and frames of reference in one folder', async (t) => {
  const dir = tempDir(t);
  writePhantomSeries(dir, { seed: 'nouid', slices: 4, studyUid: '', seriesUid: '', prefix: 'a' });
  const other = writePhantomSeries(dir, { seed: 'other', slices: 3, prefix: 'b' });
  const r1 = await importPaths(openDatabase(':memory:'), [dir]);
  const r2 = await importPaths(openDatabase(':memory:'), [dir]);
  assert.equal(r1.series.length, 2);
  const gen = r1.series.find((s) => s.seriesUid !== other.seriesUid)!;
  assert.match(gen.seriesUid, /^2\.25\.\d+$/);
  assert.equal(gen.instances, 4);
  assert.deepEqual(r2.series.map((s) => s.seriesUid).sort(), r1.series.map((s) => s.seriesUid).sort());
  assert.ok(r1.warnings.some((w) => w.seriesUid === gen.seriesUid && /StudyInstanceUID, SeriesInstanceUID missing or empty/.test(w.message)));
  assert.notEqual(gen.frameOfReferenceUid, other.frameOfReferenceUid);
});
