/**
 * The reader takes RTSTRUCTs it did not write: pydicom's test file (a bare dataset without Part 10
 * header, with POINT ROIs), compared with what pydicom itself reads from it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { readRtstruct, rasterizeStructures } from '../../../electron/engine/rtstruct/read.js';

const FILE = '/usr/lib/python3/dist-packages/pydicom/data/test_files/rtstruct.dcm';

test("pydicom's rtstruct.dcm (no preamble, POINT ROIs) reads as pydicom reads it", (t) => {
  if (!existsSync(FILE)) return t.skip(`${FILE} absent (Debian python3-pydicom not installed)`);
  const rt = readRtstruct(FILE);
  const py = spawnSync(
    '/usr/bin/python3',
    ['-c', `import json,sys,pydicom
ds=pydicom.dcmread(sys.argv[1], force=True)
names={r.ROINumber:r.ROIName for r in ds.StructureSetROISequence}
print(json.dumps([[names[rc.ReferencedROINumber],[[c.ContourGeometricType,int(c.NumberOfContourPoints),[float(v) for v in c.ContourData]] for c in rc.ContourSequence]] for rc in ds.ROIContourSequence]))`, FILE],
    { encoding: 'utf8' },
  );
  assert.equal(py.status, 0, py.stderr);
  const expected = JSON.parse(py.stdout) as Array<[string, Array<[string, number, number[]]>]>;
  assert.deepEqual(
    rt.structures.map((s) => [s.name, s.contours.map((c) => [c.geometricType, c.points.length, c.points.flat()])]),
    expected,
  );
  assert.equal(rt.structures.find((s) => s.name === 'Isocenter 1')?.interpretedType, 'ISOCENTER');
  // POINT ROIs are kept as points but never rasterised.
  const g = { dims: [8, 8, 2] as [number, number, number], spacing: [1, 1, 1] as [number, number, number], origin: [0, 0, 0] as [number, number, number], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] as [number, number, number, number, number, number, number, number, number] };
  const masks = rasterizeStructures(rt, g);
  assert.equal(masks.find((m) => m.name === 'Isocenter 1')!.voxels, 0);
});
