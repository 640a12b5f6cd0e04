/**
 * `export rtstruct` from stored results: review states decide what is written (rejected never,
 * pending unless --approved-only), the ROI Generation Algorithm and description name the segmenter,
 * the template set and the model hashes, and the masks come back exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { importPaths } from '../../../electron/engine/dicom/import.js';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { getResults, setReviewState, upsertSegmentation } from '../../../electron/engine/store/results.js';
import { readNiftiLabels } from '../../../electron/engine/nifti/nifti.js';
import { labelsOnGrid } from '../../../electron/engine/eval/resample-labels.js';
import { exportResultsRtstruct } from '../../../electron/engine/rtstruct/export.js';
import { readRtstruct, rasterizeStructures } from '../../../electron/engine/rtstruct/read.js';
import { readPart10, seqOf, strOf } from '../../../electron/engine/rtstruct/dcmjs.js';
import { seriesRefFromArchive } from '../../../electron/engine/rtstruct/series-ref.js';
import { REPO_ROOT, requireData, tempDir } from '../../helpers/data.js';
import { checkWrittenRtstruct } from '../../unit/rtstruct/fixtures.js';

test('stored results -> RTSTRUCT: review states, provenance, exact masks, CLI JSON', async (t) => {
  const ctDir = requireData(t, 'totalseg/example_ct_dicom');
  const labelsFile = requireData(t, 'totalseg/example_ct_dicom_seg_total_v2.nii.gz');
  if (!ctDir || !labelsFile) return;
  const dir = tempDir(t);
  const dbFile = join(dir, 'db.sqlite');
  const db = openDatabase(dbFile);
  t.after(() => db.close());
  const seriesUid = (await importPaths(db, [ctDir])).series[0]!.seriesUid;
  const series = seriesRefFromArchive(db, seriesUid);
  const labels = labelsOnGrid(readNiftiLabels(labelsFile), series.geometry, { file: labelsFile });
  const maskOf = (v: number): Uint8Array => Uint8Array.from(labels, (x) => (x === v ? 1 : 0));
  const liver = maskOf(5);
  const spleen = maskOf(1);
  const stomach = maskOf(6);
  db.prepare(`INSERT INTO template_sets (name) VALUES ('Abdomen')`).run();
  const count = (m: Uint8Array): number => m.reduce((a, b) => a + b, 0);
  upsertSegmentation(db, {
    seriesUid,
    templateSet: 'Abdomen',
    segmenter: 'medsam',
    models: [{ name: 'medsam_vit_b', sha256: 'ab'.repeat(32) }],
    structures: [
      { name: 'Liver', mask: liver, voxels: count(liver), volumeCc: 1 },
      { name: 'Spleen', mask: spleen, voxels: count(spleen), volumeCc: 1 },
      { name: 'Stomach', mask: stomach, voxels: count(stomach), volumeCc: 1 },
    ],
  });
  const byName = new Map(getResults(db, seriesUid).map((r) => [r.structure, r.id]));
  setReviewState(db, byName.get('Liver')!, 'approved', 'physicist');
  setReviewState(db, byName.get('Stomach')!, 'rejected', 'physicist');

  const warnings: string[] = [];
  const all = exportResultsRtstruct(db, seriesUid, join(dir, 'all.dcm'), { warn: (m) => warnings.push(m) });
  assert.deepEqual(all.structures.map((s) => s.name), ['Liver', 'Spleen'], 'rejected structures are never exported');
  assert.ok(warnings.some((w) => /Stomach left out \(review state rejected\)/.test(w)));
  const approved = exportResultsRtstruct(db, seriesUid, join(dir, 'approved.dcm'), { approvedOnly: true });
  assert.deepEqual(approved.structures.map((s) => s.name), ['Liver']);
  assert.notEqual(approved.sopInstanceUid, all.sopInstanceUid);

  const { dataset } = readPart10(join(dir, 'all.dcm'));
  const roi = seqOf(dataset, 'StructureSetROISequence')[0]!;
  assert.equal(strOf(roi, 'ROIGenerationAlgorithm'), 'AUTOMATIC');
  assert.match(strOf(roi, 'ROIGenerationDescription'), /medsam.*Abdomen.*medsam_vit_b:abababababab/);
  assert.ok(strOf(roi, 'ROIGenerationDescription').length <= 64);
  assert.match(strOf(dataset, 'StructureSetDescription'), new RegExp(`sha256:${'ab'.repeat(32)}`));
  assert.equal(strOf(dataset, 'StructureSetLabel'), 'Abdomen');
  checkWrittenRtstruct(t, join(dir, 'all.dcm'));
  checkWrittenRtstruct(t, join(dir, 'approved.dcm'));

  const back = rasterizeStructures(readRtstruct(join(dir, 'all.dcm')), series.geometry);
  assert.deepEqual(back[0]!.mask, liver);
  assert.deepEqual(back[1]!.mask, spleen);

  // The CLI prints the contract's JSON document.
  db.close();
  const cli = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/delineate.js'), 'export', 'rtstruct', '--series', seriesUid, '--out', join(dir, 'cli.dcm'), '--approved-only', '--db', dbFile, '--json'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(cli.status, 0, cli.stderr);
  const doc = JSON.parse(cli.stdout) as { out: string; sopInstanceUid: string; structures: Array<{ name: string; contours: number; points: number }> };
  assert.deepEqual(Object.keys(doc).sort(), ['out', 'sopInstanceUid', 'structures']);
  assert.equal(doc.out, join(dir, 'cli.dcm'));
  assert.deepEqual(doc.structures.map((s) => Object.keys(s).sort()), [['contours', 'name', 'points']]);
  assert.equal(doc.structures[0]!.name, 'Liver');
  assert.equal(doc.structures[0]!.contours, approved.structures[0]!.contours);
  checkWrittenRtstruct(t, join(dir, 'cli.dcm'));
  const bad = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/delineate.js'), 'export', 'rtstruct', '--series', '2.25.999', '--out', join(dir, 'x.dcm'), '--db', dbFile, '--json'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /2\.25\.999/);
});
