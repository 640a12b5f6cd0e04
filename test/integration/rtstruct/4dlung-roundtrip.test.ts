/**
 * Acceptance (issue 6): the 4D-Lung RTSTRUCT (ADAC Pinnacle3 export) imported, re-exported by our
 * writer, re-imported: per ROI the same contours within 0.5 mm and Dice >= 0.98 of the rasterised
 * masks; our file passes dciodvfy with 0 errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { importPaths } from '../../../electron/engine/dicom/import.js';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { readRtstruct, rasterizeStructures } from '../../../electron/engine/rtstruct/read.js';
import { seriesRefFromArchive } from '../../../electron/engine/rtstruct/series-ref.js';
import { writeRtstruct } from '../../../electron/engine/rtstruct/write.js';
import { INTERPRETED_TYPES } from '../../../electron/engine/rtstruct/preflight.js';
import { deriveTemplatesFromRtstruct } from '../../../electron/engine/rtstruct/derive.js';
import { getTemplateSet } from '../../../electron/engine/store/templates.js';
import { patientToVoxel } from '../../../electron/engine/volume/geometry.js';
import { requireData, tempDir } from '../../helpers/data.js';
import { checkWrittenRtstruct, dcentvfyFindings } from '../../unit/rtstruct/fixtures.js';

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

test('4D-Lung RTSTRUCT: import -> re-export -> re-import keeps every contour within 0.5 mm and Dice >= 0.98', async (t) => {
  const ctDir = requireData(t, '4dlung/ct');
  const rsFile = requireData(t, '4dlung/rtstruct/1-1.dcm');
  if (!ctDir || !rsFile) return;
  const dir = tempDir(t);
  const db = openDatabase(join(dir, 'db.sqlite'));
  t.after(() => db.close());
  const imported = await importPaths(db, [ctDir, rsFile]);
  assert.equal(imported.series.length, 1);
  const seriesUid = imported.series[0]!.seriesUid;
  const original = readRtstruct(rsFile);
  assert.equal(original.referencedSeriesUid, seriesUid, 'the RTSTRUCT refers to the imported series');
  assert.deepEqual(original.structures.map((s) => [s.name, s.contours.length]), [['Tumor_c40', 28], ['LN_c40', 21], ['Carina_c40', 1], ['Vertebra_c40', 5]].filter(([n]) => original.structures.some((s) => s.name === n)));
  const series = seriesRefFromArchive(db, seriesUid);
  const masks0 = rasterizeStructures(original, series.geometry);
  for (const m of masks0) assert.deepEqual(m.skipped, [], `${m.name}: every contour lies on a slice`);

  const out = join(dir, 'reexport.dcm');
  const written = writeRtstruct(
    out,
    series,
    original.structures.map((s) => ({
      name: s.name,
      color: s.color ?? [255, 0, 0],
      interpretedType: INTERPRETED_TYPES.has(s.interpretedType) ? s.interpretedType : 'ORGAN',
      generationAlgorithm: 'MANUAL' as const,
      contours: s.contours.filter((c) => c.geometricType === 'CLOSED_PLANAR').map((c) => c.points),
    })),
    { label: original.label || 'Reexport' },
  );
  assert.notEqual(written.sopInstanceUid, original.sopInstanceUid);
  checkWrittenRtstruct(t, out);
  // Patient and study attributes agree with the CT files (dicom3tools' cross-file check).
  const ctFiles = readdirSync(ctDir).filter((f) => f.endsWith('.dcm')).map((f) => join(ctDir, f));
  const entity = dcentvfyFindings([out, ...ctFiles]);
  if (entity) assert.deepEqual(entity, [], entity.join('\n'));

  const again = readRtstruct(out);
  const masks1 = rasterizeStructures(again, series.geometry);
  original.structures.forEach((s, i) => {
    const r = again.structures[i]!;
    assert.equal(r.name, s.name);
    assert.equal(r.contours.length, s.contours.length, `${s.name}: contour count`);
    let worst = 0;
    s.contours.forEach((c, n) => {
      const d = r.contours[n]!;
      assert.equal(d.points.length, c.points.length, `${s.name} contour ${n + 1}: point count`);
      c.points.forEach((p, k) => {
        const q = d.points[k]!;
        worst = Math.max(worst, Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]));
      });
      // Same slice reference as the original wherever the original had one.
      if (c.referencedSopInstanceUid) assert.equal(d.referencedSopInstanceUid, c.referencedSopInstanceUid, `${s.name} contour ${n + 1}: image reference`);
    });
    assert.ok(worst <= 0.5, `${s.name}: contours moved by ${worst} mm`);
    const dsc = dice(masks0[i]!.mask, masks1[i]!.mask);
    t.diagnostic(`${s.name}: ${s.contours.length} contours, max point shift ${worst.toExponential(2)} mm, Dice ${dsc.toFixed(4)}, ${masks0[i]!.voxels} voxels`);
    assert.ok(dsc >= 0.98, `${s.name}: Dice ${dsc}`);
  });
});

test('template derive from the 4D-Lung RTSTRUCT: six extreme points per ROI inside its contours, stored as rtstruct members', async (t) => {
  const ctDir = requireData(t, '4dlung/ct');
  const rsFile = requireData(t, '4dlung/rtstruct/1-1.dcm');
  if (!ctDir || !rsFile) return;
  const dir = tempDir(t);
  const db = openDatabase(join(dir, 'db.sqlite'));
  t.after(() => db.close());
  const imported = await importPaths(db, [ctDir]);
  const seriesUid = imported.series[0]!.seriesUid;
  const r = deriveTemplatesFromRtstruct(db, { set: 'Thorax', seriesUid, file: rsFile, structures: ['Tumor_c40', 'Vertebra_c40'] });
  assert.deepEqual(r.structures.map((s) => s.name), ['Tumor_c40', 'Vertebra_c40']);
  const series = seriesRefFromArchive(db, seriesUid);
  const rt = readRtstruct(rsFile);
  const masks = rasterizeStructures(rt, series.geometry);
  for (const s of r.structures) {
    assert.equal(s.points.length, 6);
    const m = masks.find((x) => x.name === s.roiName)!;
    for (const p of s.points) {
      const v = patientToVoxel(series.geometry, p).map(Math.round) as [number, number, number];
      const [w, h] = series.geometry.dims;
      assert.equal(m.mask[v[0] + w * (v[1] + h * v[2])], 1, `${s.name}: extreme point ${p} is inside the contours`);
    }
  }
  const set = getTemplateSet(db, 'Thorax');
  assert.deepEqual(set.structures.map((s) => [s.name, s.members[0]!.source]), [['Tumor_c40', 'rtstruct'], ['Vertebra_c40', 'rtstruct']]);
  assert.throws(() => deriveTemplatesFromRtstruct(db, { set: 'Thorax', seriesUid, file: rsFile, structures: ['Liver'] }), /no usable ROI named liver/);
});
