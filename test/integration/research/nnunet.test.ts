// nnU-Net v2 dataset export, checked by an independent reader (nibabel under Debian's python3): every
// label map equals the stored masks voxel for voxel (later structure wins where they overlap), images
// and labels share one affine, the affine is the series geometry, the image is the series' HU; only
// series with every structure approved become cases, and case ids carry no patient identifier.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/data.js';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { getSeriesGeometry } from '../../../electron/engine/store/archive.js';
import { getResultMask, getResults, setReviewState, upsertSegmentation } from '../../../electron/engine/store/results.js';
import { loadFloatVolume } from '../../../electron/engine/volume/load.js';
import { exportNnunet } from '../../../electron/engine/research/nnunet.js';
import { makeBatchArchive, STRUCTURES, TEMPLATE_SET } from '../jobs/archive.js';

const PY = '/usr/bin/python3';

const CHECK = `
import json, sys
import numpy as np, nibabel as nib
spec = json.load(open(sys.argv[1]))
for c in spec:
    img = nib.load(c['image']); lab = nib.load(c['label'])
    assert np.allclose(img.affine, lab.affine, atol=1e-4), 'image and label affines differ'
    assert np.allclose(lab.affine, np.array(c['affine']), atol=1e-3), (lab.affine, c['affine'])
    got = np.asarray(lab.dataobj).flatten(order='F')
    want = np.fromfile(c['expectedLabels'], dtype=np.uint8)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert np.array_equal(got.astype(np.int64), want.astype(np.int64)), int((got != want).sum())
    hu = np.asarray(img.get_fdata(dtype=np.float32)).flatten(order='F')
    assert np.allclose(hu, np.fromfile(c['expectedHu'], dtype=np.float32), atol=1e-3)
print('ok', len(spec))
`;

function mask(n: number, seed: number): Uint8Array {
  const m = new Uint8Array(n);
  // Irregular, overlapping masks: the overlap rule is part of what is checked.
  for (let p = 0; p < n; p++) m[p] = (p * 2654435761 + seed * 97) % 11 < 3 ? 1 : 0;
  return m;
}

test('export dataset --format nnunet: label maps equal the stored masks voxel for voxel (nibabel), approved-only cases', { timeout: 120_000 }, async (t) => {
  if (spawnSync(PY, ['-c', 'import nibabel, numpy'], { encoding: 'utf8' }).status !== 0) {
    t.skip(`${PY} with nibabel and numpy is not available (Debian: python3-nibabel python3-numpy)`);
    return;
  }
  const dir = tempDir(t);
  const archive = await makeBatchArchive(join(dir, 'archive'), { count: 3 });
  const db = openDatabase(archive.dbFile);
  t.after(() => db.close());
  for (const [k, uid] of archive.series.entries()) {
    const g = getSeriesGeometry(db, uid);
    const n = g.dims[0] * g.dims[1] * g.dims[2];
    upsertSegmentation(db, {
      seriesUid: uid,
      templateSet: TEMPLATE_SET,
      segmenter: 'test',
      models: [],
      structures: STRUCTURES.map((name, s) => ({ name, mask: mask(n, k * 10 + s), voxels: 0, volumeCc: 0 })),
    });
    // The last series has one structure left unreviewed: it must not become a case.
    for (const r of getResults(db, uid, TEMPLATE_SET)) if (k < 2 || r.structure !== 'Liver') setReviewState(db, r.id, 'approved', 'jdoe');
  }
  const out = join(dir, 'Dataset501_Phantom');
  const res = await exportNnunet(db, { templateSet: TEMPLATE_SET, out });
  assert.deepEqual(res.cases.map((c) => c.caseId), ['case_0001', 'case_0002']);
  assert.deepEqual(res.skipped.map((s) => s.seriesUid), [archive.series[2]]);
  assert.match(res.skipped[0]!.reason, /Liver/);

  const sorted = [...STRUCTURES].sort();
  const ds = JSON.parse(readFileSync(join(out, 'dataset.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(ds.labels, { background: 0, ...Object.fromEntries(sorted.map((s, i) => [s, i + 1])) });
  assert.deepEqual(ds.channel_names, { '0': 'CT' });
  assert.equal(ds.numTraining, 2);
  assert.equal(ds.file_ending, '.nii.gz');
  assert.deepEqual(readdirSync(join(out, 'imagesTr')).sort(), ['case_0001_0000.nii.gz', 'case_0002_0000.nii.gz']);
  assert.deepEqual(readdirSync(join(out, 'labelsTr')).sort(), ['case_0001.nii.gz', 'case_0002.nii.gz']);

  const spec = [];
  for (const c of res.cases) {
    const g = getSeriesGeometry(db, c.seriesUid);
    const n = g.dims[0] * g.dims[1] * g.dims[2];
    const want = new Uint8Array(n);
    for (const r of getResults(db, c.seriesUid, TEMPLATE_SET)) {
      const m = getResultMask(db, r.id)!;
      const value = sorted.indexOf(r.structure) + 1;
      // Alphabetical order, later wins: a voxel keeps the value of the last structure covering it.
      for (let p = 0; p < n; p++) if (m[p] && value > want[p]!) want[p] = value;
    }
    assert.ok(new Set(want).size === sorted.length + 1, 'every label value occurs');
    writeFileSync(join(dir, `${c.caseId}.labels`), want);
    writeFileSync(join(dir, `${c.caseId}.hu`), (await loadFloatVolume(db, c.seriesUid)).data);
    // RAS affine from the LPS geometry: columns are direction * spacing, x and y negated.
    const d = g.direction;
    const affine = [0, 1, 2].map((row) => {
      const sign = row < 2 ? -1 : 1;
      return [0, 1, 2].map((col) => sign * d[row * 3 + col]! * g.spacing[col]!).concat([sign * g.origin[row]!]);
    });
    affine.push([0, 0, 0, 1]);
    spec.push({ image: join(out, 'imagesTr', `${c.caseId}_0000.nii.gz`), label: join(out, 'labelsTr', `${c.caseId}.nii.gz`), expectedLabels: join(dir, `${c.caseId}.labels`), expectedHu: join(dir, `${c.caseId}.hu`), affine });
  }
  writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
  const py = spawnSync(PY, ['-c', CHECK, join(dir, 'spec.json')], { encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
  assert.match(py.stdout, /ok 2/);
  const log = db.prepare(`SELECT count(*) AS n FROM exports WHERE kind = 'dataset'`).get() as { n: number };
  assert.equal(log.n, 2, 'the case -> series link is kept in the archive, not in the dataset');
  assert.ok(!JSON.stringify(ds).includes(archive.series[0]!));
});
