/**
 * A label map on a real DICOM series' voxels but stored another way round: TotalSegmentator's
 * example_ct_dicom_seg_total_v2.nii.gz covers exactly the example DICOM grid, with its rows in the
 * opposite order (NIfTI RAS affine with +y, DICOM rows toward posterior). Brought onto the series
 * through LPS, every labelled voxel must land on the DICOM voxel at the same place: a row flip, no
 * voxel lost or duplicated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { seriesGrid } from '../../../electron/engine/eval/series.js';
import { labelsOnGrid } from '../../../electron/engine/eval/resample-labels.js';
import { readNiftiLabels } from '../../../electron/engine/nifti/nifti.js';
import { REPO_ROOT, requireData, tempDir } from '../../helpers/data.js';

test('TotalSegmentator labels land on the example DICOM grid through LPS, row-flipped and lossless', (t) => {
  const dicom = requireData(t, 'totalseg/example_ct_dicom');
  const seg = requireData(t, 'totalseg/example_ct_dicom_seg_total_v2.nii.gz');
  if (!dicom || !seg) return;
  const db = join(tempDir(t), 'db.sqlite');
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'delineate.js'), 'import', dicom, '--db', db, '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const uid = (JSON.parse(r.stdout) as { series: { seriesUid: string }[] }).series[0]!.seriesUid;
  const handle = openDatabase(db);
  let grid;
  try {
    grid = seriesGrid(handle, uid).geometry;
  } finally {
    handle.close();
  }
  const lv = readNiftiLabels(seg);
  assert.deepEqual(lv.dims, grid.dims);
  const onSeries = labelsOnGrid(lv, grid, { file: seg, seriesUid: uid });
  const [nx, ny, nz] = grid.dims;
  // Histogram preserved: a permutation of voxels.
  const hist = (d: ArrayLike<number>): Map<number, number> => {
    const h = new Map<number, number>();
    for (let p = 0; p < d.length; p++) h.set(d[p]!, (h.get(d[p]!) ?? 0) + 1);
    return h;
  };
  assert.deepEqual([...hist(onSeries)].sort((a, b) => a[0] - b[0]), [...hist(lv.data)].sort((a, b) => a[0] - b[0]));
  assert.ok(hist(lv.data).size > 10, 'the fixture should hold many labels');
  // Which permutation: the one the two geometries imply (here rows reversed), checked voxel by voxel.
  const flipJ = Math.sign(lv.direction[4]) !== Math.sign(grid.direction[4]);
  let mismatches = 0;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const src = lv.data[i + nx * ((flipJ ? ny - 1 - j : j) + ny * k)]!;
        if (onSeries[i + nx * (j + ny * k)] !== src) mismatches++;
      }
  assert.equal(mismatches, 0);
  assert.ok(flipJ, 'this fixture is expected to store its rows in the opposite order');
});
