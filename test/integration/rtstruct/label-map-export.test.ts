/**
 * Acceptance (issue 6): `export rtstruct` of the TotalSegmentator label map onto the imported
 * example_ct_dicom series passes dciodvfy, reads in pydicom, rasterises back to Dice >= 0.98 for every
 * structure over 1 cc, and every ContourImageSequence resolves to a CT slice of that series.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { importPaths } from '../../../electron/engine/dicom/import.js';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { getInstances } from '../../../electron/engine/store/archive.js';
import { exportLabelsRtstruct } from '../../../electron/engine/rtstruct/export.js';
import { readRtstruct, rasterizeStructures } from '../../../electron/engine/rtstruct/read.js';
import { seriesRefFromArchive } from '../../../electron/engine/rtstruct/series-ref.js';
import { readLabelNames } from '../../../electron/engine/eval/sources.js';
import { labelsOnGrid } from '../../../electron/engine/eval/resample-labels.js';
import { readNiftiLabels } from '../../../electron/engine/nifti/nifti.js';
import { exportNames } from '../../../electron/engine/rtstruct/names.js';
import { listExports } from '../../../electron/engine/rtstruct/exports-log.js';
import { requireData, tempDir } from '../../helpers/data.js';
import { dciodvfyErrors, pydicomSummary } from '../../unit/rtstruct/fixtures.js';

function dice(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < a.length; i++) {
    inter += a[i]! & b[i]!;
    sa += a[i]!;
    sb += b[i]!;
  }
  return sa + sb === 0 ? 1 : (2 * inter) / (sa + sb);
}

test('label map -> RTSTRUCT on example_ct_dicom: dciodvfy clean, pydicom reads, Dice >= 0.98 per structure > 1 cc', async (t) => {
  const ctDir = requireData(t, 'totalseg/example_ct_dicom');
  const labelsFile = requireData(t, 'totalseg/example_ct_dicom_seg_total_v2.nii.gz');
  const namesFile = requireData(t, 'totalseg/class_map_total_v2.json');
  if (!ctDir || !labelsFile || !namesFile) return;
  const dir = tempDir(t);
  const db = openDatabase(join(dir, 'db.sqlite'));
  t.after(() => db.close());
  const imported = await importPaths(db, [ctDir]);
  assert.equal(imported.series.length, 1);
  const seriesUid = imported.series[0]!.seriesUid;
  const out = join(dir, 'labels-rs.dcm');
  const warnings: string[] = [];
  const written = exportLabelsRtstruct(db, seriesUid, labelsFile, namesFile, out, { warn: (m) => warnings.push(m) });
  t.diagnostic(`${written.structures.length} structures, ${written.structures.reduce((a, s) => a + s.points, 0)} points`);

  const v = dciodvfyErrors(out);
  if (v) assert.deepEqual(v.errors, [], v.errors.join('\n'));
  else t.diagnostic('dciodvfy absent: IOD check skipped');

  const instances = new Set(getInstances(db, seriesUid).map((i) => i.sopInstanceUid));
  const py = pydicomSummary(out);
  if (py) {
    assert.equal(py.sopInstanceUid, written.sopInstanceUid);
    assert.equal(py.rois.length, written.structures.length);
    for (const r of py.rois) {
      assert.ok(r.maxDsLen <= 16, `${r.name}: decimal string of ${r.maxDsLen} characters`);
      assert.equal(r.refs.length, r.contours, `${r.name}: one image reference per contour`);
      for (const uid of r.refs) assert.ok(instances.has(uid), `${r.name}: ContourImageSequence ${uid} is not a slice of the series`);
    }
  } else t.diagnostic('pydicom absent: independent read skipped');

  // Rasterise the written contours back and compare with the label map on the series grid.
  const series = seriesRefFromArchive(db, seriesUid);
  const rt = readRtstruct(out);
  for (const s of rt.structures) for (const c of s.contours) assert.ok(instances.has(c.referencedSopInstanceUid ?? ''), `${s.name}: unresolved image reference`);
  const back = new Map(rasterizeStructures(rt, series.geometry).map((s) => [s.name, s]));
  const names = readLabelNames(namesFile);
  const labels = labelsOnGrid(readNiftiLabels(labelsFile), series.geometry, { file: labelsFile });
  const reference = [...names]
    .map(([value, name]) => ({ name, mask: Uint8Array.from(labels, (x) => (x === value ? 1 : 0)) }))
    .filter((s) => s.mask.some((x) => x !== 0));
  const exported = exportNames(reference.map((s) => s.name)).names;
  const voxelCc = series.geometry.spacing.reduce((a, b) => a * b, 1) / 1000;
  let checked = 0;
  reference.forEach((ref, i) => {
    const got = back.get(exported[i]!);
    assert.ok(got, `${ref.name} (${exported[i]}) is in the RTSTRUCT`);
    assert.deepEqual(got.skipped, []);
    const voxels = ref.mask.reduce((a, b) => a + b, 0);
    const d = dice(ref.mask, got.mask);
    if (voxels * voxelCc > 1) {
      assert.ok(d >= 0.98, `${ref.name}: Dice ${d.toFixed(4)}`);
      checked++;
    }
  });
  assert.ok(checked >= 20, `${checked} structures over 1 cc checked`);

  // Orientation guard independent of our reader: the area centroid of pydicom's contours against
  // nibabel's voxel centroid (RAS affine -> LPS) for the liver and the spleen. Voxel-edge rings enclose
  // exactly the voxels, so the two agree to rounding; a flipped or rotated export moves them by cm.
  if (py) {
    const script = `
import sys, json, numpy as np, nibabel as nib, pydicom
ds = pydicom.dcmread(sys.argv[1]); im = nib.load(sys.argv[2]); a = np.asarray(im.dataobj)
out = {}
for name, value in (('Liver', 5), ('Spleen', 1)):
    ijk = np.argwhere(a == value)
    ras = nib.affines.apply_affine(im.affine, ijk).mean(axis=0)
    lps = [-ras[0], -ras[1], ras[2]]
    num = [r.ROINumber for r in ds.StructureSetROISequence if r.ROIName == name][0]
    rc = [r for r in ds.ROIContourSequence if r.ReferencedROINumber == num][0]
    # Area-weighted centroid of the axial rings (holes have the opposite winding, so they subtract).
    tot = 0.0; acc = np.zeros(3)
    for c in rc.ContourSequence:
        p = np.array(c.ContourData, dtype=float).reshape(-1, 3); q = np.roll(p, -1, axis=0)
        cr = p[:, 0] * q[:, 1] - q[:, 0] * p[:, 1]; area = cr.sum() / 2
        cx = ((p[:, 0] + q[:, 0]) * cr).sum() / 6; cy = ((p[:, 1] + q[:, 1]) * cr).sum() / 6
        acc += [cx, cy, area * p[0, 2]]; tot += area
    out[name] = float(np.linalg.norm(acc / tot - np.array(lps)))
print(json.dumps(out))
`;
    const r = spawnSync('/usr/bin/python3', ['-c', script, out, labelsFile], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const dist = JSON.parse(r.stdout) as Record<string, number>;
    t.diagnostic(`contour area centroid vs voxel centroid distance (mm): ${JSON.stringify(dist)}`);
    for (const [name, mm] of Object.entries(dist)) assert.ok(mm < 0.1, `${name}: contours ${mm.toFixed(1)} mm from the label map`);
  }
  assert.equal(listExports(db, seriesUid).filter((e) => e.sopInstanceUid === written.sopInstanceUid).length, listExports(db).length > 0 ? 1 : 0);
});
