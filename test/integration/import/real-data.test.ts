/**
 * Acceptance on real data (skipped when ../shared/data is absent): 4D-Lung through the CLI (one CT
 * series, dims, spacing, origin = most inferior ImagePositionPatient, one RTSTRUCT referencing it,
 * re-run adds nothing), `export nifti` against dcm2niix voxel by voxel through both affines, the
 * TotalSegmentator JPEG 2000 DICOM with empty UIDs against dcm2niix, and NIfTI geometry against the
 * header's own transform.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as niftiReader from 'nifti-reader-js';
import { dicomParser } from '../../../electron/engine/dicom/parse.js';
import type { ImportResult, SeriesSummary } from '../../../electron/api.js';
import { importPaths } from '../../../electron/engine/dicom/import.js';
import { readNifti } from '../../../electron/engine/nifti/nifti.js';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { patientToVoxel, voxelToPatient, voxelToPatientAffine, type Vec3 } from '../../../electron/engine/volume/geometry.js';
import { loadVolume } from '../../../electron/engine/volume/load.js';
import type { CtVolume, Volume } from '../../../electron/engine/volume/volume.js';
import { REPO_ROOT, requireData, tempDir } from '../../helpers/data.js';

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'delineate.js'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function hasDcm2niix(): boolean {
  return spawnSync('dcm2niix', ['-v'], { encoding: 'utf8' }).error === undefined;
}

/** Runs dcm2niix on a folder into `out`; returns the single NIfTI it wrote. */
function dcm2niix(folder: string, out: string): string {
  const r = spawnSync('dcm2niix', ['-z', 'n', '-b', 'n', '-o', out, '-f', 'ref', folder], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const files = readdirSync(out).filter((f) => f.endsWith('.nii'));
  assert.equal(files.length, 1, `dcm2niix wrote ${files.join(', ')}`);
  return join(out, files[0]!);
}

/**
 * Every voxel of `ours` against the voxel of `ref` at the same patient position: positions must
 * coincide within 0.01 mm (whatever row flips or slice order dcm2niix chose) and values be identical.
 */
function compareThroughAffines(ours: CtVolume, ref: Volume): void {
  assert.equal(ours.data.length, ref.data.length);
  const [nx, ny, nz] = ours.dims;
  const corners: Vec3[] = [[0, 0, 0], [nx - 1, 0, 0], [0, ny - 1, 0], [0, 0, nz - 1], [nx - 1, ny - 1, nz - 1]];
  for (const c of corners) {
    const p = voxelToPatient(ours, c);
    const q = patientToVoxel(ref, p);
    const r: Vec3 = [Math.round(q[0]), Math.round(q[1]), Math.round(q[2])];
    const back = voxelToPatient(ref, r);
    const dist = Math.hypot(back[0] - p[0], back[1] - p[1], back[2] - p[2]);
    assert.ok(dist < 0.01, `voxel ${c} at ${p} maps to ${q} in dcm2niix's grid (${dist.toFixed(4)} mm off)`);
  }
  // The mapping is affine, so index steps are constant: derive them once, then compare every voxel.
  const idx = (ijk: Vec3): number => {
    const q = patientToVoxel(ref, voxelToPatient(ours, ijk)).map(Math.round) as Vec3;
    return q[0] + ref.dims[0] * (q[1] + ref.dims[1] * q[2]);
  };
  const base = idx([0, 0, 0]);
  const di = idx([1, 0, 0]) - base;
  const dj = idx([0, 1, 0]) - base;
  const dk = idx([0, 0, 1]) - base;
  let mismatches = 0;
  let first = '';
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      let o = nx * (j + ny * k);
      let r = base + dj * j + dk * k;
      for (let i = 0; i < nx; i++, o++, r += di) {
        if (ours.data[o] !== ref.data[r]) {
          if (mismatches++ === 0) first = `(${i},${j},${k}): ours ${ours.data[o]}, dcm2niix ${ref.data[r]}`;
        }
      }
    }
  }
  assert.equal(mismatches, 0, `${mismatches} voxels differ, first ${first}`);
}

test('4D-Lung through the CLI: one CT series, geometry, RTSTRUCT, idempotent; export nifti equals dcm2niix', async (t) => {
  const data = requireData(t, '4dlung');
  if (!data) return;
  const dir = tempDir(t);
  const db = join(dir, 'archive.db');
  const r1 = cli(['import', data, '--db', db, '--json']);
  assert.equal(r1.status, 0, r1.stderr);
  const res = JSON.parse(r1.stdout) as ImportResult;
  assert.equal(res.series.length, 1);
  const s = res.series[0]!;
  assert.equal(s.modality, 'CT');
  assert.deepEqual(s.dims, [512, 512, 99]);
  [0.9766, 0.9766, 3.0].forEach((v, i) => assert.ok(Math.abs(s.spacing[i]! - v) <= 0.001, `spacing ${s.spacing}`));
  // Origin: the ImagePositionPatient of the most inferior slice, read with dicom-parser directly.
  const zs = readdirSync(join(data, 'ct')).map((f) => {
    const ds = dicomParser.parseDicom(readFileSync(join(data, 'ct', f)), { untilTag: 'x7fe00010' });
    return ds.string('x00200032')!.split('\\').map(Number);
  });
  const inferior = zs.reduce((a, b) => (b[2]! < a[2]! ? b : a));
  assert.deepEqual(s.origin, inferior);
  assert.equal(res.objects.length, 1);
  assert.equal(res.objects[0]!.modality, 'RTSTRUCT');
  assert.equal(res.objects[0]!.referencedSeriesUid, s.seriesUid);
  const r2 = cli(['import', data, '--db', db, '--json']);
  assert.equal(r2.status, 0, r2.stderr);
  assert.deepEqual(JSON.parse(r2.stdout), res);
  const list = JSON.parse(cli(['series', 'list', '--db', db, '--json']).stdout) as { series: SeriesSummary[] };
  assert.equal(list.series.length, 1);
  assert.equal(list.series[0]!.instances, 99);

  const out = join(dir, 'ours.nii.gz');
  const ex = cli(['export', 'nifti', '--series', s.seriesUid, '--out', out, '--db', db, '--json']);
  assert.equal(ex.status, 0, ex.stderr);
  assert.deepEqual(JSON.parse(ex.stdout), { out, dims: [512, 512, 99], spacing: s.spacing });
  if (!hasDcm2niix()) {
    t.diagnostic('dcm2niix not installed: voxel comparison skipped');
    return;
  }
  compareThroughAffines(readNifti(out), readNifti(dcm2niix(join(data, 'ct'), tempDir(t))));
});

test('TotalSegmentator DICOM (JPEG 2000, empty UIDs): one 20-slice series with a warning, voxels equal dcm2niix', async (t) => {
  const data = requireData(t, 'totalseg/example_ct_dicom');
  if (!data) return;
  const db = openDatabase(':memory:');
  const r = await importPaths(db, [data]);
  assert.equal(r.series.length, 1);
  assert.equal(r.series[0]!.dims[2], 20);
  assert.deepEqual(r.skipped, []);
  assert.ok(r.warnings.some((w) => /SeriesInstanceUID/.test(w.message) && /generated/.test(w.message)), JSON.stringify(r.warnings));
  // Stable: a second database gives the same generated UIDs.
  const r2 = await importPaths(openDatabase(':memory:'), [data]);
  assert.equal(r2.series[0]!.seriesUid, r.series[0]!.seriesUid);
  const vol = await loadVolume(db, r.series[0]!.seriesUid);
  if (!hasDcm2niix()) {
    t.diagnostic('dcm2niix not installed: voxel comparison skipped');
    return;
  }
  compareThroughAffines(vol, readNifti(dcm2niix(data, tempDir(t))));
});

/** Voxel -> LPS affine straight from the header (sform, else qform), independent of nifti.ts. */
function headerAffineLps(file: string): number[] {
  let buf: Uint8Array = readFileSync(file);
  if (buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  const h = niftiReader.readHeader(ab)!;
  let m: number[][];
  if (h.sform_code > 0) {
    const v = new DataView(ab);
    m = [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => v.getFloat32(280 + (r * 4 + c) * 4, h.littleEndian)));
  } else m = h.affine.slice(0, 3);
  // RAS -> LPS: negate the first two rows.
  return [...m[0]!.map((x) => -x), ...m[1]!.map((x) => -x), ...m[2]!, 0, 0, 0, 1];
}

test('NIfTI volumes (openkbp, totalseg) import with the geometry their headers state', async (t) => {
  const okbp = requireData(t, 'openkbp');
  const ts = requireData(t, 'totalseg');
  if (!okbp || !ts) return;
  const files = [
    ...readdirSync(okbp).filter((f) => f.endsWith('_ct.nii.gz')).map((f) => join(okbp, f)),
    join(ts, 'example_ct.nii.gz'),
    join(ts, 'example_ct_sm.nii.gz'),
  ];
  const db = openDatabase(':memory:');
  for (const f of files) {
    const r = await importPaths(db, [f]);
    assert.equal(r.series.length, 1, f);
    const s = r.series[0]!;
    assert.equal(s.source, 'nifti');
    const want = headerAffineLps(f);
    const got = voxelToPatientAffine(s);
    got.forEach((x, i) => assert.ok(Math.abs(x - want[i]!) < 1e-3, `${f}: affine ${got} vs header ${want}`));
    const again = await importPaths(db, [f]);
    assert.equal(again.series[0]!.seriesUid, s.seriesUid);
  }
  assert.equal((await importPaths(db, [files[0]!])).series.length, 1);
  const vol = await loadVolume(db, (await importPaths(db, [files[0]!])).series[0]!.seriesUid);
  assert.equal(vol.data.length, vol.dims[0] * vol.dims[1] * vol.dims[2]);
});
