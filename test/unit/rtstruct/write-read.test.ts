import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { writeRtstruct } from '../../../electron/engine/rtstruct/write.js';
import { readRtstruct, rasterizeStructures } from '../../../electron/engine/rtstruct/read.js';
import { DelineateError } from '../../../electron/engine/errors.js';
import type { Geometry } from '../../../electron/engine/volume/geometry.js';
import { tempDir } from '../../helpers/data.js';
import { checkWrittenRtstruct, dciodvfyErrors, handSeries, pydicomSummary } from './fixtures.js';

const g: Geometry = { dims: [24, 20, 6], spacing: [0.9765625, 0.9765625, 2.5], origin: [-249.51171875, -437.51171875, -766.5], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };

function paint(f: (i: number, j: number, k: number) => boolean): Uint8Array {
  const [w, h, d] = g.dims;
  const m = new Uint8Array(w * h * d);
  for (let k = 0; k < d; k++) for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) m[i + w * (j + h * k)] = f(i, j, k) ? 1 : 0;
  return m;
}

const ring = paint((i, j, k) => k >= 1 && k <= 3 && Math.hypot(i - 8, j - 8) <= 6 && Math.hypot(i - 8, j - 8) >= 3);
const islands = paint((i, j, k) => k === 2 && ((i >= 17 && i <= 19 && j >= 2 && j <= 4) || (i >= 20 && i <= 22 && j >= 10 && j <= 14)));
const oneVoxel = paint((i, j, k) => i === 5 && j === 17 && k === 4);
const edge = paint((i, j, k) => k === 5 && (i === 0 || j === 19 || i === 23));
const empty = new Uint8Array(g.dims[0] * g.dims[1] * g.dims[2]);

test('writes a structure set that dcmjs, pydicom and dciodvfy accept, and reads it back to the same masks', (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'rs.dcm');
  const series = handSeries(g);
  // A Latin-1 CT with an accented name: the RTSTRUCT must carry the same name, correctly declared.
  series.header.SpecificCharacterSet = 'ISO_IR 100';
  series.header.PatientName = [{ Alphabetic: 'Müller^Jörg' }];
  const w = writeRtstruct(out, series, [
    { name: 'Ring', color: '#ff8000', mask: ring, generationDescription: 'Delineate medlam:0123456789ab set HN' },
    { name: 'Islands', color: [0, 255, 0], mask: islands, interpretedType: 'AVOIDANCE' },
    { name: 'OneVoxel', color: [0, 0, 255], mask: oneVoxel },
    { name: 'Edge', color: [255, 255, 0], mask: edge },
    { name: 'Empty', color: [9, 9, 9], mask: empty },
  ], { label: 'Test', description: 'models medlam sha256:0123...; template set HN' });
  assert.deepEqual(w.structures.map((s) => s.name), ['Ring', 'Islands', 'OneVoxel', 'Edge']);
  assert.ok(w.warnings.some((m) => /Empty is empty/.test(m)), 'empty structure skipped with a warning');
  assert.equal(w.structures.find((s) => s.name === 'Ring')!.contours, 6, 'outer and hole on three slices');
  assert.equal(w.structures.find((s) => s.name === 'Islands')!.contours, 2);
  assert.ok(w.sopInstanceUid.startsWith('2.25.') && w.sopInstanceUid !== w.seriesInstanceUid);

  const rt = readRtstruct(out);
  assert.equal(rt.sopInstanceUid, w.sopInstanceUid);
  assert.equal(rt.referencedSeriesUid, series.seriesInstanceUid);
  assert.equal(rt.frameOfReferenceUid, series.frameOfReferenceUid);
  assert.equal(rt.referencedImageUids.length, g.dims[2]);
  const masks = rasterizeStructures(rt, g);
  const expect = [ring, islands, oneVoxel, edge];
  masks.forEach((m, idx) => {
    assert.deepEqual(m.skipped, []);
    assert.deepEqual(m.mask, expect[idx], `${m.name} round-trips`);
  });
  assert.equal(rt.structures[1]!.interpretedType, 'AVOIDANCE');
  assert.deepEqual(rt.structures[0]!.color, [255, 128, 0]);
  const ctUids = new Set(series.instances.map((i) => i.sopInstanceUid));
  for (const s of rt.structures) for (const c of s.contours) assert.ok(ctUids.has(c.referencedSopInstanceUid!));

  const py = pydicomSummary(out);
  if (py) {
    assert.deepEqual(py.rois.map((r) => r.name), ['Ring', 'Islands', 'OneVoxel', 'Edge']);
    for (const r of py.rois) assert.ok(r.maxDsLen <= 16, `${r.name} has a ${r.maxDsLen}-character decimal string`);
    const name = spawnSync('/usr/bin/python3', ['-c', 'import sys, pydicom; print(str(pydicom.dcmread(sys.argv[1]).PatientName))', out], { encoding: 'utf8' });
    assert.equal(name.stdout.trim(), 'Müller^Jörg');
  } else t.diagnostic('pydicom not available: independent read skipped');
  const v = dciodvfyErrors(out);
  if (v) assert.deepEqual(v.errors, [], `dciodvfy: ${v.errors.join('\n')}`);
  else t.diagnostic('dciodvfy not installed: IOD check skipped');

  // A second export of the same structures gets new UIDs.
  const w2 = writeRtstruct(join(dir, 'rs2.dcm'), series, [{ name: 'Ring', color: '#ff8000', mask: ring }]);
  assert.notEqual(w2.sopInstanceUid, w.sopInstanceUid);
  assert.notEqual(w2.seriesInstanceUid, w.seriesInstanceUid);
  checkWrittenRtstruct(t, join(dir, 'rs2.dcm'));
});

test('pre-flight refuses bad names, colours, types and off-slice contours, and writes nothing', (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'bad.dcm');
  const series = handSeries(g);
  const z = series.instances[2]!.position[2];
  const cases: Array<[string, Parameters<typeof writeRtstruct>[2], RegExp]> = [
    ['long name', [{ name: 'Parotid_L_SuperficialLobe', color: '#ff0000', mask: ring }], /1-16 characters/],
    ['duplicate', [{ name: 'Liver', color: '#ff0000', mask: ring }, { name: 'LIVER', color: '#00ff00', mask: islands }], /not unique/],
    ['colour', [{ name: 'Liver', color: 'red', mask: ring }], /ROIDisplayColor/],
    ['type', [{ name: 'Liver', color: '#ff0000', mask: ring, interpretedType: 'KIDNEYISH' }], /Interpreted Type/],
    ['off slice', [{ name: 'Liver', color: '#ff0000', contours: [[[-240, -430, z + 1.1], [-235, -430, z + 1.1], [-235, -425, z + 1.1]]] }], /CT slice/],
    ['two points', [{ name: 'Liver', color: '#ff0000', contours: [[[-240, -430, z], [-235, -430, z]]] }], /at least 3/],
    ['nothing', [{ name: 'Liver', color: '#ff0000', mask: empty }], /no ROI/],
  ];
  for (const [what, structures, re] of cases) {
    assert.throws(
      () => writeRtstruct(out, series, structures),
      (e: unknown) => e instanceof DelineateError && e.code === 'preflight' && re.test(e.message),
      what,
    );
    assert.equal(existsSync(out), false, `${what}: no file written`);
  }
  const noFor = { ...series, frameOfReferenceUid: '' };
  assert.throws(() => writeRtstruct(out, noFor, [{ name: 'Liver', color: '#ff0000', mask: ring }]), /FrameOfReferenceUID/);
});
