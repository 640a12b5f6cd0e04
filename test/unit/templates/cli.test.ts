/**
 * `template add`, `template derive --labels`, `template list` through the CLI entry point on the
 * synthetic phantom: JSON shapes as DESIGN.md's contract, points in slot order, and derived extreme
 * points that match the phantom's analytic ellipsoid within a voxel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Vec3 } from '../../../electron/engine/volume/geometry.js';
import { writePhantomSeries } from '../../fixtures/phantom/phantom.js';
import { cliJson } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/data.js';
import { writeOrganLabels } from '../../helpers/labels.js';

const run = cliJson;

test('template add / derive --labels / list', async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'db.sqlite');
  const ph = writePhantomSeries(join(dir, 'ct'), { columns: 40, rows: 32, slices: 24 });
  assert.equal((await run(['import', join(dir, 'ct'), '--db', db, '--json'])).code, 0);

  // add: six points in any order come back in slot order.
  const pts: Vec3[] = [
    [0, 0, 40],
    [-30, 0, 0],
    [0, 25, 0],
    [30, 0, 0],
    [0, 0, -40],
    [0, -25, 0],
  ];
  const added = await run(['template', 'add', '--set', 'thorax', '--series', ph.seriesUid, '--structure', 'Heart', '--points', pts.map((p) => p.join(',')).join(';'), '--db', db, '--json']);
  assert.equal(added.code, 0, added.stderr);
  assert.deepEqual(added.json, {
    set: 'thorax',
    structure: 'Heart',
    seriesUid: ph.seriesUid,
    points: [pts[1], pts[3], pts[5], pts[2], pts[4], pts[0]],
  });
  const bad = await run(['template', 'add', '--set', 'thorax', '--series', ph.seriesUid, '--structure', 'Heart', '--points', '1,2,3;4,5,6', '--db', db, '--json']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /six points/);

  // derive: a label map of the phantom's liver ellipsoid on the series grid.
  const g = ph.geometry;
  const liver = ph.organs.find((o) => o.name === 'Liver')!;
  writeOrganLabels(ph, join(dir, 'labels.nii.gz'));
  writeFileSync(join(dir, 'names.json'), JSON.stringify({ 1: 'Liver', 2: 'Kidney_L' }));
  const derived = await run(['template', 'derive', '--set', 'abdomen', '--series', ph.seriesUid, '--labels', join(dir, 'labels.nii.gz'), '--names', join(dir, 'names.json'), '--structures', 'Liver', '--db', db, '--json']);
  assert.equal(derived.code, 0, derived.stderr);
  const d = derived.json as { set: string; structures: { name: string; points: Vec3[] }[] };
  assert.equal(d.set, 'abdomen');
  assert.equal(d.structures[0]!.name, 'Liver');
  const lo = (a: number): number => liver.centreLps[a]! - liver.radiiMm[a]!;
  const hi = (a: number): number => liver.centreLps[a]! + liver.radiiMm[a]!;
  const sp = Math.max(...g.spacing);
  const p = d.structures[0]!.points;
  [lo(0), hi(0), lo(1), hi(1), lo(2), hi(2)].forEach((bound, slot) => {
    const axis = Math.floor(slot / 2);
    assert.ok(Math.abs(p[slot]![axis]! - bound) <= sp, `slot ${slot}: ${p[slot]![axis]} vs analytic bound ${bound}`);
  });
  const missing = await run(['template', 'derive', '--set', 'abdomen', '--series', ph.seriesUid, '--labels', join(dir, 'labels.nii.gz'), '--names', join(dir, 'names.json'), '--structures', 'Kidney_L', '--db', db, '--json']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /no voxels for Kidney_L/);

  const listed = await run(['template', 'list', '--db', db, '--json']);
  const sets = (listed.json as { sets: { name: string; structures: { name: string; color: string; members: { seriesUid: string; points: Vec3[]; source: string }[] }[] }[] }).sets;
  assert.deepEqual(sets.map((s) => s.name), ['abdomen', 'thorax']);
  assert.deepEqual(Object.keys(sets[0]!.structures[0]!.members[0]!).sort(), ['points', 'seriesUid', 'source']);
  assert.equal(sets[0]!.structures[0]!.members[0]!.source, 'labels');
});
