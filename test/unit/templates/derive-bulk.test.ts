/**
 * `template derive` in bulk: --from-archive takes every archived RTSTRUCT whose ROI names map to the
 * wanted structures and reports the ones that do not; --labels-dir takes every label map named after
 * its series. Per-scan derive keeps working beside it (cli.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePhantomSeries } from '../../fixtures/phantom/phantom.js';
import { writeRtstructFor } from '../../fixtures/phantom/variants.js';
import { cliJson } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/data.js';
import { writeOrganLabels } from '../../helpers/labels.js';

const run = cliJson;

interface Bulk {
  set: string;
  derived: { file: string; seriesUid: string; structures: string[] }[];
  skipped: { file: string; reason: string }[];
}

test('template derive --from-archive and --labels-dir: many scans at once, unmapped ones skipped and reported', async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'db.sqlite');
  const a = writePhantomSeries(join(dir, 'a'), { columns: 40, rows: 32, slices: 24, seed: 'a' });
  const b = writePhantomSeries(join(dir, 'b'), { columns: 40, rows: 32, slices: 24, seed: 'b' });
  assert.equal((await run(['import', join(dir, 'a'), join(dir, 'b'), '--db', db, '--json'])).code, 0);
  // A label map of the liver per series; one becomes an RTSTRUCT through the product's exporter.
  const labelDir = join(dir, 'labels');
  mkdirSync(labelDir);
  for (const ph of [a, b]) writeOrganLabels(ph, join(labelDir, `${ph.seriesUid}.nii.gz`));
  writeFileSync(join(labelDir, 'not-a-series.nii.gz'), '');
  writeFileSync(join(dir, 'names.json'), JSON.stringify({ 1: 'Liver' }));
  mkdirSync(join(dir, 'rt'));
  const exported = await run(['export', 'rtstruct', '--series', a.seriesUid, '--labels', join(labelDir, `${a.seriesUid}.nii.gz`), '--names', join(dir, 'names.json'), '--out', join(dir, 'rt', 'liver.dcm'), '--db', db, '--json']);
  assert.equal(exported.code, 0, exported.stderr);
  writeRtstructFor(b, join(dir, 'rt', 'body-only.dcm'));
  assert.equal((await run(['import', join(dir, 'rt'), '--db', db, '--json'])).code, 0);

  const fromArchive = await run(['template', 'derive', '--set', 'abdomen', '--from-archive', '--structures', 'Liver', '--db', db, '--json']);
  assert.equal(fromArchive.code, 0, fromArchive.stderr);
  const r = fromArchive.json as Bulk;
  assert.deepEqual(r.derived.map((d) => [d.seriesUid, d.structures]), [[a.seriesUid, ['Liver']]]);
  assert.equal(r.skipped.length, 1);
  assert.match(r.skipped[0]!.reason, /no ROI maps to Liver \(it has Body\)/);
  assert.match(fromArchive.stderr, /skipped .*body-only\.dcm/);

  // Without --structures the set's own structures are wanted; the label folder adds series b.
  const fromDir = await run(['template', 'derive', '--set', 'abdomen', '--labels-dir', labelDir, '--names', join(dir, 'names.json'), '--db', db, '--json']);
  assert.equal(fromDir.code, 0, fromDir.stderr);
  const d = fromDir.json as Bulk;
  assert.deepEqual(d.derived.map((x) => x.seriesUid).sort(), [a.seriesUid, b.seriesUid].sort());
  assert.equal(d.skipped.length, 1);
  assert.match(d.skipped[0]!.reason, /no series not-a-series/);

  const listed = await run(['template', 'list', '--db', db, '--json']);
  const sets = (listed.json as { sets: { name: string; structures: { name: string; members: { seriesUid: string; source: string }[] }[] }[] }).sets;
  assert.equal(sets[0]!.structures[0]!.members.length, 2);

  // Mixing bulk and per-scan flags is refused.
  const mixed = await run(['template', 'derive', '--set', 'abdomen', '--from-archive', '--series', a.seriesUid, '--db', db, '--json']);
  assert.notEqual(mixed.code, 0);
  assert.match(mixed.stderr, /give no --series/);
});

test('template derive --labels-dir: a label map that fails part-way stores none of its structures', async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'db.sqlite');
  const a = writePhantomSeries(join(dir, 'a'), { columns: 40, rows: 32, slices: 24, seed: 'a' });
  assert.equal((await run(['import', join(dir, 'a'), '--db', db, '--json'])).code, 0);
  const labelDir = join(dir, 'labels');
  mkdirSync(labelDir);
  writeOrganLabels(a, join(labelDir, `${a.seriesUid}.nii.gz`));
  // Liver (label 1) derives; Spleen (label 2) has no voxel, which fails the map after Liver is read.
  writeFileSync(join(dir, 'names.json'), JSON.stringify({ 1: 'Liver', 2: 'Spleen' }));
  const failed = await run(['template', 'derive', '--set', 'abdomen', '--labels-dir', labelDir, '--names', join(dir, 'names.json'), '--structures', 'Liver,Spleen', '--db', db, '--json']);
  const r = failed.json as Bulk;
  assert.deepEqual(r.derived, []);
  assert.equal(r.skipped.length, 1);
  assert.match(r.skipped[0]!.reason, /holds no voxels for Spleen/);
  const members = async (): Promise<string[]> => {
    const listed = await run(['template', 'list', '--db', db, '--json']);
    const sets = (listed.json as { sets: { structures: { name: string; members: { seriesUid: string }[] }[] }[] }).sets;
    return sets.flatMap((s) => s.structures.flatMap((x) => x.members.map((m) => `${x.name}:${m.seriesUid}`)));
  };
  assert.deepEqual(await members(), [], 'nothing of the failed map is stored');
  // The same map with the structure it does hold derives.
  const ok = await run(['template', 'derive', '--set', 'abdomen', '--labels-dir', labelDir, '--names', join(dir, 'names.json'), '--structures', 'Liver', '--db', db, '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(await members(), [`Liver:${a.seriesUid}`]);
});
