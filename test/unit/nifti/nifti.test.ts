import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readNifti, readNiftiLabels, writeNifti } from '../../../electron/engine/nifti/nifti.js';
import { voxelToPatient, type Mat3, type Vec3 } from '../../../electron/engine/volume/geometry.js';
import { requireData, tempDir } from '../../helpers/data.js';

// An oblique grid: rotation of 20 degrees about the LPS z axis, and k flipped toward inferior.
const c = Math.cos(Math.PI / 9);
const s = Math.sin(Math.PI / 9);
const OBLIQUE: Mat3 = [c, -s, 0, s, c, 0, 0, 0, -1];

test('write then read keeps geometry and voxels (oblique, flipped, float and integer data)', (t) => {
  const dir = tempDir(t);
  const dims: Vec3 = [5, 4, 3];
  const data = new Float32Array(60).map((_, i) => i * 1.5 - 20);
  const vol = { dims, spacing: [0.7, 0.8, 2.5] as Vec3, origin: [-10, 20.5, 33] as Vec3, direction: OBLIQUE, data };
  for (const name of ['a.nii', 'b.nii.gz']) {
    writeNifti(join(dir, name), vol);
    const back = readNifti(join(dir, name));
    assert.deepEqual(back.dims, dims);
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(back.spacing[i]! - vol.spacing[i]!) < 1e-5);
    for (const ijk of [[0, 0, 0], [4, 3, 2], [1, 2, 1]] as Vec3[]) {
      const p = voxelToPatient(back, ijk);
      const q = voxelToPatient(vol, ijk);
      for (let i = 0; i < 3; i++) assert.ok(Math.abs(p[i]! - q[i]!) < 1e-4, `${name} voxel ${ijk}: ${p} vs ${q}`);
    }
    assert.deepEqual(Array.from(back.data), Array.from(data));
  }
});

test('label maps read back as integers; a fractional label is refused naming the file', (t) => {
  const dir = tempDir(t);
  const g = { dims: [3, 3, 3] as Vec3, spacing: [1, 1, 1] as Vec3, origin: [0, 0, 0] as Vec3, direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] as Mat3 };
  const labels = new Uint8Array(27);
  labels[13] = 7;
  writeNifti(join(dir, 'l.nii.gz'), { ...g, data: labels });
  const back = readNiftiLabels(join(dir, 'l.nii.gz'));
  assert.ok(back.data instanceof Uint8Array);
  assert.equal(back.data[13], 7);
  writeNifti(join(dir, 'f.nii'), { ...g, data: new Float32Array(27).fill(0.5) }, { datatype: 'float32' });
  assert.throws(() => readNiftiLabels(join(dir, 'f.nii')), /f\.nii.*non-label value/);
});

test('a non-NIfTI file gives an error naming it', (t) => {
  const f = join(tempDir(t), 'x.nii');
  writeNifti(f, { dims: [1, 1, 1], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data: new Uint8Array(1) });
  assert.throws(() => readNifti(join(tempDir(t), 'missing.nii')), /missing\.nii/);
});

test('OpenKBP and TotalSegmentator headers: geometry agrees with nibabel (RAS) mapped to LPS', (t) => {
  const files = ['openkbp/pt_4_ct.nii.gz', 'totalseg/example_ct_sm.nii.gz'];
  for (const f of files) {
    const path = requireData(t, f);
    if (!path) return;
    if (!existsSync('/usr/bin/python3')) return t.skip('no /usr/bin/python3');
    const py = spawnSync('/usr/bin/python3', ['-c', `import nibabel, json, sys; im = nibabel.load(sys.argv[1]); print(json.dumps({"affine": im.affine.tolist(), "shape": list(im.shape), "sum": float(im.get_fdata().sum())}))`, path], { encoding: 'utf8' });
    if (py.status !== 0) return t.skip(`nibabel not available: ${py.stderr.slice(0, 200)}`);
    const ref = JSON.parse(py.stdout) as { affine: number[][]; shape: number[]; sum: number };
    const vol = readNifti(path);
    assert.deepEqual(vol.dims, ref.shape.slice(0, 3));
    for (const ijk of [[0, 0, 0], [10, 20, 30], [vol.dims[0] - 1, vol.dims[1] - 1, vol.dims[2] - 1]] as Vec3[]) {
      const A = ref.affine;
      const ras = [0, 1, 2].map((r) => A[r]![0]! * ijk[0] + A[r]![1]! * ijk[1] + A[r]![2]! * ijk[2] + A[r]![3]!);
      const p = voxelToPatient(vol, ijk);
      assert.ok(Math.abs(p[0] + ras[0]!) < 1e-3 && Math.abs(p[1] + ras[1]!) < 1e-3 && Math.abs(p[2] - ras[2]!) < 1e-3, `${f} ${ijk}`);
    }
    let sum = 0;
    for (const v of vol.data) sum += v;
    assert.ok(Math.abs(sum - ref.sum) <= Math.abs(ref.sum) * 1e-6 + 1, `${f} voxel sum ${sum} vs ${ref.sum}`);
  }
});

test('files we write are read by nibabel with the same geometry in both qform and sform', (t) => {
  if (!existsSync('/usr/bin/python3')) return t.skip('no /usr/bin/python3');
  const f = join(tempDir(t), 'o.nii.gz');
  const vol = { dims: [4, 3, 2] as Vec3, spacing: [0.9, 1.1, 3] as Vec3, origin: [5, -7, 12] as Vec3, direction: OBLIQUE, data: new Int16Array(24).map((_, i) => i - 1000) };
  writeNifti(f, vol);
  const py = spawnSync('/usr/bin/python3', ['-c', `import nibabel, json, sys; im = nibabel.load(sys.argv[1]); print(json.dumps({"q": im.get_qform().tolist(), "s": im.get_sform().tolist(), "v": im.get_fdata().ravel(order="F").tolist()}))`, f], { encoding: 'utf8' });
  if (py.status !== 0) return t.skip(`nibabel not available: ${py.stderr.slice(0, 200)}`);
  const ref = JSON.parse(py.stdout) as { q: number[][]; s: number[][]; v: number[] };
  for (const A of [ref.q, ref.s]) {
    for (const ijk of [[0, 0, 0], [3, 2, 1], [1, 0, 1]] as Vec3[]) {
      const ras = [0, 1, 2].map((r) => A[r]![0]! * ijk[0] + A[r]![1]! * ijk[1] + A[r]![2]! * ijk[2] + A[r]![3]!);
      const p = voxelToPatient(vol, ijk);
      assert.ok(Math.abs(p[0] + ras[0]!) < 1e-4 && Math.abs(p[1] + ras[1]!) < 1e-4 && Math.abs(p[2] - ras[2]!) < 1e-4, `${ijk}: ${p} vs RAS ${ras}`);
    }
  }
  assert.deepEqual(ref.v, Array.from(vol.data));
});
