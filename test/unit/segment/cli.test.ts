/**
 * `delineate segment` and `delineate export labels` end to end on a NIfTI phantom with the tiny SAM
 * fixture models: stored boxes -> stored masks -> label map + names JSON, as the CLI contract says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, tempDir } from '../../helpers/data.js';
import { cliInProcess as cli } from '../../helpers/cli.js';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { importPaths } from '../../../electron/engine/dicom/import.js';
import { addTemplateMember } from '../../../electron/engine/store/templates.js';
import { getResults, upsertLocalization } from '../../../electron/engine/store/results.js';
import { readNiftiLabels, writeNifti } from '../../../electron/engine/nifti/nifti.js';
import { voxelToPatient, type Vec3 } from '../../../electron/engine/volume/geometry.js';
import type { Volume } from '../../../electron/engine/volume/volume.js';

const FIX = join(REPO_ROOT, 'test', 'fixtures', 'models', 'sam');

test('segment from stored boxes, then export the masks as a label map', async (t) => {
  const dir = tempDir(t);
  process.env.DELINEATE_HOME = dir; // the embedding cache goes under the per-user folder
  t.after(() => delete process.env.DELINEATE_HOME);
  const dims: Vec3 = [32, 32, 10];
  const data = new Float32Array(32 * 32 * 10).fill(-1000);
  for (let k = 3; k <= 6; k++) for (let j = 12; j <= 21; j++) for (let i = 10; i <= 19; i++) data[i + 32 * (j + 32 * k)] = 800;
  for (let k = 2; k <= 3; k++) for (let j = 2; j <= 5; j++) for (let i = 24; i <= 27; i++) data[i + 32 * (j + 32 * k)] = 700;
  const ct: Volume = { dims, spacing: [2, 2, 3], origin: [-30, 12, 40], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data };
  const ctFile = join(dir, 'phantom_ct.nii.gz');
  writeNifti(ctFile, ct);
  const dbFile = join(dir, 'd.sqlite');
  const db = openDatabase(dbFile);
  const imported = await importPaths(db, [ctFile]);
  const uid = imported.series[0]!.seriesUid;
  const box = (a: Vec3, b: Vec3) => ({ min: voxelToPatient(ct, a), max: voxelToPatient(ct, b) });
  const six = (a: Vec3, b: Vec3): Vec3[] => {
    const c: Vec3 = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2];
    return [[a[0], c[1], c[2]], [b[0], c[1], c[2]], [c[0], a[1], c[2]], [c[0], b[1], c[2]], [c[0], c[1], a[2]], [c[0], c[1], b[2]]].map((p) => voxelToPatient(ct, p as Vec3));
  };
  for (const [name, a, b] of [['Cube', [10, 12, 3], [19, 21, 6]], ['Small', [24, 2, 2], [27, 5, 3]]] as [string, Vec3, Vec3][]) {
    addTemplateMember(db, { set: 'Test', structure: name, seriesUid: uid, points: six(a, b), source: 'clicked' });
  }
  upsertLocalization(db, {
    seriesUid: uid, templateSet: 'Test', localizer: 'fixture', mode: 'wpl', models: [],
    structures: [
      { name: 'Cube', boxes: [box([8, 10, 2], [22, 24, 7])], extremePoints: [], confidence: 1, flags: [] },
      { name: 'Small', boxes: [box([23, 1, 2], [28, 6, 3])], extremePoints: [], confidence: 1, flags: [] },
    ],
  });
  db.close();

  const seg = await cli(['segment', '--set', 'Test', '--series', uid, '--models', FIX, '--db', dbFile, '--json']);
  assert.equal(seg.code, 0, seg.err);
  const doc = JSON.parse(seg.out) as { seriesUid: string; structures: { name: string; voxels: number; volumeCc: number; confidence: number; flags: string[] }[]; timingsMs: Record<string, number> };
  assert.equal(doc.seriesUid, uid);
  assert.deepEqual(doc.structures.map((s) => s.name), ['Cube', 'Small']);
  assert.equal(doc.structures[0]!.voxels, 396); // the cube less each slice's top-left corner voxel (quirk M8)
  assert.ok(doc.structures[1]!.voxels > 0);
  assert.equal(typeof doc.timingsMs.total, 'number');
  const db2 = openDatabase(dbFile);
  const stored = getResults(db2, uid, 'Test');
  assert.ok(stored.every((r) => r.hasMask && r.segmenter === 'medsam'));
  assert.ok(stored[0]!.models.some((m) => m.name === 'sam-encoder'));
  db2.close();

  const out = join(dir, 'labels.nii.gz');
  const exp = await cli(['export', 'labels', '--series', uid, '--out', out, '--db', dbFile, '--json']);
  assert.equal(exp.code, 0, exp.err);
  assert.deepEqual(JSON.parse(exp.out), { out, labels: { 1: 'Cube', 2: 'Small' } });
  const names = join(dir, 'labels.json');
  assert.ok(existsSync(names));
  assert.deepEqual(JSON.parse(readFileSync(names, 'utf8')), { 1: 'Cube', 2: 'Small' });
  const lab = readNiftiLabels(out);
  assert.deepEqual(lab.dims, dims);
  let cube = 0;
  let small = 0;
  for (const v of lab.data) { if (v === 1) cube++; if (v === 2) small++; }
  assert.equal(cube, 396);
  assert.equal(small, doc.structures[1]!.voxels);
  assert.ok(Math.abs(lab.origin[0] - ct.origin[0]) < 1e-4 && Math.abs(lab.spacing[2] - 3) < 1e-6);
});

test('segment without stored boxes asks the localizer, and names it when it is missing', async (t) => {
  const dir = tempDir(t);
  const dims: Vec3 = [8, 8, 4];
  const ct: Volume = { dims, spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data: new Float32Array(256).fill(100) };
  const ctFile = join(dir, 'p_ct.nii.gz');
  writeNifti(ctFile, ct);
  const dbFile = join(dir, 'd.sqlite');
  const db = openDatabase(dbFile);
  const uid = (await importPaths(db, [ctFile])).series[0]!.seriesUid;
  const pts: Vec3[] = [[1, 4, 2], [6, 4, 2], [4, 1, 2], [4, 6, 2], [4, 4, 0], [4, 4, 3]];
  addTemplateMember(db, { set: 'T', structure: 'Cube', seriesUid: uid, points: pts, source: 'clicked' });
  db.close();
  const r = await cli(['segment', '--set', 'T', '--series', uid, '--models', FIX, '--localizer', 'nonexistent', '--db', dbFile, '--json']);
  assert.equal(r.code, 1);
  assert.match(r.err, /localizer backend 'nonexistent'/);
  const bad = await cli(['export', 'labels', '--series', uid, '--out', join(dir, 'x.nii.gz'), '--db', dbFile]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /no stored masks/);
});
