import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labelsOnGrid, sameGrid } from '../../../electron/engine/eval/resample-labels.js';
import { evaluateSets, pairStructures } from '../../../electron/engine/eval/evaluate-sets.js';
import { readLabelNames, structuresFromLabels } from '../../../electron/engine/eval/sources.js';
import { structureFileKind } from '../../../electron/engine/eval/file-source.js';
import { cohortCsv, stat, summarise, type CaseMetrics } from '../../../electron/engine/eval/cohort-stats.js';
import { DelineateError } from '../../../electron/engine/errors.js';
import type { Mat3, Vec3 } from '../../../electron/engine/volume/geometry.js';
import type { LabelVolume } from '../../../electron/engine/volume/volume.js';
import { tempDir } from '../../helpers/data.js';
import { boxMask, grid, randomBlob, rng } from './helpers.js';

function labelVolume(dims: Vec3, spacing: Vec3, origin: Vec3, direction: Mat3): LabelVolume {
  const rand = rng(9);
  const data = new Uint8Array(dims[0] * dims[1] * dims[2]);
  const a = randomBlob(dims, spacing, rand);
  const b = randomBlob(dims, spacing, rand);
  for (let p = 0; p < data.length; p++) data[p] = a[p] ? 1 : b[p] ? 2 : 0;
  return { dims, spacing, origin, direction, data };
}

test('a label map on the same voxel centres with flipped and permuted axes resamples back exactly', () => {
  const dims: Vec3 = [12, 10, 7];
  const spacing: Vec3 = [0.9, 1.1, 3];
  const series = labelVolume(dims, spacing, [-50, 20, 100], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  // Same voxels stored with k reversed (origin at the last slice, k toward inferior) and i, j swapped.
  const fd: Vec3 = [dims[1], dims[0], dims[2]];
  const flipped = new Uint8Array(series.data.length);
  for (let k = 0; k < dims[2]; k++)
    for (let j = 0; j < dims[1]; j++)
      for (let i = 0; i < dims[0]; i++) flipped[j + fd[0] * (i + fd[1] * (dims[2] - 1 - k))] = series.data[i + dims[0] * (j + dims[1] * k)]!;
  const other: LabelVolume = {
    dims: fd,
    spacing: [spacing[1], spacing[0], spacing[2]],
    origin: [-50, 20, 100 + (dims[2] - 1) * spacing[2]],
    direction: [0, 1, 0, 1, 0, 0, 0, 0, -1],
    data: flipped,
  };
  assert.equal(sameGrid(other, series), false);
  const back = labelsOnGrid(other, series, { file: 'flipped.nii.gz' });
  assert.deepEqual(Array.from(back), Array.from(series.data));
  assert.equal(labelsOnGrid(series, grid(dims, spacing, [-50, 20, 100]), { file: 'same.nii.gz' }), series.data);
});

test('a label map lying off the series is refused, naming the file and series', () => {
  const dims: Vec3 = [10, 10, 6];
  const lv = labelVolume(dims, [1, 1, 2], [0, 0, 0], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  const far = grid(dims, [1, 1, 2], [0, 0, 500]);
  assert.throws(() => labelsOnGrid(lv, far, { file: 'other-scan.nii.gz', seriesUid: '1.2.3' }), (e: unknown) => {
    assert.ok(e instanceof DelineateError && e.code === 'bad-input');
    assert.match(e.message, /other-scan\.nii\.gz does not lie on series 1\.2\.3: 100% of its labelled voxels/);
    return true;
  });
  // Half a voxel of slack: a grid shifted by a fraction of a voxel is accepted.
  const near = grid(dims, [1, 1, 2], [0.3, -0.2, 0.5]);
  assert.equal(labelsOnGrid(lv, near, { file: 'x' }).length, lv.data.length);
});

test('names JSON: value -> name, with clear refusals', (t) => {
  const dir = tempDir(t);
  const ok = join(dir, 'names.json');
  writeFileSync(ok, JSON.stringify({ 1: 'Brainstem', 7: 'Mandible' }));
  assert.deepEqual([...readLabelNames(ok)], [[1, 'Brainstem'], [7, 'Mandible']]);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ zero: 'X' }));
  assert.throws(() => readLabelNames(bad), /bad\.json: key 'zero' is not a label value/);
  writeFileSync(bad, '[1, 2]');
  assert.throws(() => readLabelNames(bad), /must be a JSON object mapping label values to names/);
  const labels = Uint8Array.from([0, 1, 7, 7, 3]);
  const s = structuresFromLabels(labels, readLabelNames(ok));
  assert.deepEqual(s.map((x) => [x.name, Array.from(x.loadMask!())]), [['Brainstem', [0, 1, 0, 0, 0]], ['Mandible', [0, 0, 1, 1, 0]]]);
});

test('structure files are told apart by content', (t) => {
  const dir = tempDir(t);
  const dcm = join(dir, 'noext');
  const buf = Buffer.alloc(200);
  buf.write('DICM', 128, 'latin1');
  writeFileSync(dcm, buf);
  assert.equal(structureFileKind(dcm), 'rtstruct');
  const gz = join(dir, 'labels.bin');
  writeFileSync(gz, Buffer.from([0x1f, 0x8b, 8, 0]));
  assert.equal(structureFileKind(gz), 'labels');
  assert.equal(structureFileKind(join(dir, 'x.nii.gz')), 'labels');
  const junk = join(dir, 'junk.txt');
  writeFileSync(junk, 'hello');
  assert.throws(() => structureFileKind(junk), /neither a DICOM RTSTRUCT nor a NIfTI label map/);
});

test('structures pair by name, exactly first, then ignoring case and separators', () => {
  const m = new Uint8Array(1);
  const { pairs, unmatched } = pairStructures(
    [{ name: 'Parotid_L', mask: m }, { name: 'SpinalCord', mask: m }, { name: 'Heart', mask: m }],
    [{ name: 'parotid l' }, { name: 'SpinalCord' }, { name: 'spinal_cord' }, { name: 'Lung_L' }],
  );
  assert.deepEqual(pairs.map(([r, p]) => [r.name, p.name]), [['Parotid_L', 'parotid l'], ['SpinalCord', 'SpinalCord']]);
  assert.deepEqual(unmatched, { reference: ['Heart'], prediction: ['spinal_cord', 'Lung_L'] });
});

test('research label names pair with the TG-263 names templates store (OpenKBP LeftParotid -> Parotid_L)', () => {
  const m = new Uint8Array(1);
  const { pairs, unmatched } = pairStructures(
    [{ name: 'LeftParotid', mask: m }, { name: 'Mandible', mask: m }, { name: 'Brainstem', mask: m }],
    [{ name: 'Parotid_R' }, { name: 'Parotid_L' }, { name: 'Bone_Mandible' }],
  );
  assert.deepEqual(pairs.map(([r, p]) => [r.name, p.name]), [['LeftParotid', 'Parotid_L'], ['Mandible', 'Bone_Mandible']]);
  assert.deepEqual(unmatched, { reference: ['Brainstem'], prediction: ['Parotid_R'] });
});

test('evaluateSets scores shared structures and refuses sets with nothing in common', () => {
  const dims: Vec3 = [10, 10, 10];
  const g = grid(dims);
  const cube = boxMask(dims, [2, 2, 2], [6, 6, 6]);
  const report = evaluateSets(
    { source: 'ref', structures: [{ name: 'A', mask: cube }, { name: 'B', mask: cube }] },
    { source: 'pred', structures: [{ name: 'a', mask: cube }] },
    g,
  );
  assert.deepEqual(report.structures.map((s) => [s.name, s.dice]), [['A', 1]]);
  assert.deepEqual(report.unmatched, { reference: ['B'], prediction: [] });
  assert.throws(
    () => evaluateSets({ source: 'ref', structures: [{ name: 'A', mask: cube }] }, { source: 'pred', structures: [{ name: 'Z' }] }, g),
    /no structure name is shared by the reference \(A\) and the prediction \(Z\)/,
  );
  assert.throws(
    () => evaluateSets({ source: 'ref.nii.gz', structures: [{ name: 'A', mask: cube }] }, { source: 'p', structures: [{ name: 'A' }] }, g, { only: ['Q'] }),
    /reference ref\.nii\.gz has no structure Q/,
  );
});

test('cohort statistics: population std over non-null values, CSV with empty cells for null', () => {
  assert.deepEqual(stat([1, 3, null]), { mean: 2, std: 1, n: 2 });
  assert.deepEqual(stat([null]), { mean: null, std: null, n: 0 });
  const row = (caseId: string, name: string, dice: number | null, hd95Mm: number | null): CaseMetrics => ({
    caseId,
    name,
    dice,
    hd95Mm,
    surfaceDice2mm: dice,
    boxIou: 0.5,
    wallDistanceMm: 2,
    volumeDiffCc: 0,
    referenceVolumeCc: 1,
    predictionVolumeCc: 1,
    hausdorffMm: hd95Mm,
    assdMm: hd95Mm,
    status: 'ok',
  });
  const rows = [row('pt_1', 'Brainstem', 0.8, 3), row('pt_2', 'Brainstem', 0.6, null), row('pt,3', 'Larynx', 0.5, 1)];
  const s = summarise(rows);
  assert.deepEqual(s.map((r) => [r.name, r.cases, r.dice.mean, r.hd95Mm.n]), [['Brainstem', 2, 0.7, 1], ['Larynx', 1, 0.5, 1]]);
  const csv = cohortCsv(rows, s).trim().split('\n');
  assert.equal(csv[0], 'case,structure,dice,hd95_mm,surface_dice_2mm,box_iou,wall_distance_mm,volume_diff_cc,reference_volume_cc,prediction_volume_cc,hausdorff_mm,assd_mm,status');
  assert.equal(csv[2], 'pt_2,Brainstem,0.6,,0.6,0.5,2,0,1,1,,,ok');
  assert.equal(csv[3]!.split(',')[0], '"pt');
  assert.ok(csv.includes('mean,Brainstem,0.7,3,0.7,0.5,2,0,,,,,'), csv.join('\n'));
  assert.ok(csv.includes('n,Brainstem,2,1,2,2,2,2,,,,,'), csv.join('\n'));
});
