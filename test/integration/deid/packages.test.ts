/**
 * De-identified work packages and datasets: `cluster export --deidentify` carries no identifier in
 * any byte (DICOM files, inputs.sqlite, manifest), its files are dciodvfy-clean, a shard processed
 * from it imports back into the archive that exported it (pseudonyms mapped home) and into no
 * other (every series refused, saying why); `export dataset --deidentify` carries none either and
 * refuses images that declare burned-in annotation unless a person overrides.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportPackage } from '../../../electron/engine/cluster/export.js';
import { workShard } from '../../../electron/engine/cluster/work.js';
import { importPackage } from '../../../electron/engine/cluster/merge.js';
import { exportNnunet } from '../../../electron/engine/research/nnunet.js';
import { readPart10, strOf } from '../../../electron/engine/rtstruct/dcmjs.js';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { getInstances } from '../../../electron/engine/store/archive.js';
import { getResults, setReviewState } from '../../../electron/engine/store/results.js';
import { rewrite } from '../../fixtures/phantom/variants.js';
import { tempDir } from '../../helpers/data.js';
import { makeBatchArchive, TEMPLATE_SET } from '../jobs/archive.js';
import { assertNoneIn, cli, dciodvfyErrors, filesUnder, hasDciodvfy, IDENTIFYING, sourceIdentifiers } from './helpers.js';

const { PatientName, PatientID, ...REST } = IDENTIFYING;

/** Patient k of the batch archive, with the identifying attributes of the other de-identification tests. */
const identity = (k: number): { patientName: string; patientId: string; extra: Record<string, unknown> } => ({
  patientName: `${PatientName}${k}`,
  patientId: `${PatientID}${k}`,
  extra: {
    Laterality: '',
    PositionReferenceIndicator: '',
    KVP: '120',
    AcquisitionNumber: '1',
    ...REST,
    ReferringPhysicianName: [{ Alphabetic: IDENTIFYING.ReferringPhysicianName }],
    OperatorsName: [{ Alphabetic: IDENTIFYING.OperatorsName }],
  },
});

test('cluster export --deidentify: no identifier in the package, dciodvfy clean; results import back home only; export dataset --deidentify', { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t);
  const archive = await makeBatchArchive(join(dir, 'archive'), { count: 1, identity });
  // An archive that holds the same series and template set but never issued these pseudonyms.
  const foreignFile = join(dir, 'foreign.sqlite');
  copyFileSync(archive.dbFile, foreignFile);
  const db = openDatabase(archive.dbFile);
  t.after(() => db.close());
  const sources = [...filesUnder(join(dir, 'archive', 'template')), ...filesUnder(join(dir, 'archive', 'series1'))];
  const uids = sourceIdentifiers(sources);
  const needles = [...Object.values(IDENTIFYING), ...PatientName.split('^'), `${PatientID}0`, `${PatientID}1`, ...uids];

  const pkg = join(dir, 'pkg');
  const ex = await exportPackage(db, { templateSet: TEMPLATE_SET, series: archive.series, dir: pkg, shards: 1, backend: 'atlas', deidentify: {} });
  assert.equal(ex.deidentified, true);
  const query = archive.series[0]!;
  assert.notEqual(ex.shards[0]!.series[0], query, 'the package names the series by its pseudonym');
  const files = filesUnder(pkg);
  assert.ok(files.length >= 2 * 20 + 2, `${files.length} files`);
  assert.ok(assertNoneIn(files, needles) > 20);
  assert.ok(files.every((f) => /manifest\.json$|inputs\.sqlite$|\/files\/\d+\/\d+\.dcm$/.test(f)), `file names are counters: ${files.slice(0, 3).join(', ')}`);
  const manifest = JSON.parse(readFileSync(join(pkg, 'manifest.json'), 'utf8')) as { createdOn: string; deidentified?: { method: string } };
  assert.equal(manifest.createdOn, '');
  assert.match(manifest.deidentified?.method ?? '', /PS3\.15 E\.1 Basic Profile/);
  const ct = readPart10(files.find((f) => f.endsWith('/1/0.dcm'))!).dataset;
  assert.equal(strOf(ct, 'PatientIdentityRemoved'), 'YES');
  assert.equal(strOf(ct, 'SeriesInstanceUID'), ex.shards[0]!.series[0]);
  if (!hasDciodvfy()) t.diagnostic('dciodvfy absent: IOD check skipped');
  else assert.deepEqual(dciodvfyErrors(files.find((f) => f.endsWith('/1/0.dcm'))!), []);
  // The same project's pseudonyms as export dicom --deidentify: the same series gets the same UID.
  const dicom = cli(['export', 'dicom', '--series', query, '--out', join(dir, 'dicom'), '--deidentify', '--db', archive.dbFile, '--json']);
  assert.equal(dicom.status, 0, dicom.stderr);
  assert.equal((JSON.parse(dicom.stdout) as { series: { writtenSeriesUid: string }[] }).series[0]!.writtenSeriesUid, ex.shards[0]!.series[0]);

  // The partner's node processes the package as any other (atlas backend, weight-free).
  const work = await workShard({ dir: pkg, shard: 0 });
  assert.deepEqual([work.done, work.failed], [1, 0]);

  // Another archive cannot map the pseudonyms: every series refused by name, nothing imported.
  const foreign = openDatabase(foreignFile);
  const refused = importPackage(foreign, pkg);
  const foreignResults = getResults(foreign, query, TEMPLATE_SET).length;
  foreign.close();
  assert.deepEqual([refused.imported, refused.conflicts], [0, 1]);
  assert.match(refused.shards[0]!.series[0]!.reason ?? '', /not a pseudonym this archive issued/);
  assert.equal(foreignResults, 0);

  // Home: the results land on the original series, under its own UID, and the audit names it.
  const home = importPackage(db, pkg);
  assert.deepEqual([home.imported, home.conflicts], [1, 0]);
  assert.equal(home.shards[0]!.series[0]!.seriesUid, query);
  const results = getResults(db, query, TEMPLATE_SET).filter((r) => r.hasMask);
  assert.equal(results.length, 3);
  const audited = db.prepare(`SELECT series_uid, templates_json FROM audit WHERE action = 'created' AND series_uid = ?`).all(query) as { series_uid: string; templates_json: string }[];
  assert.equal(audited.length, 3);
  for (const a of audited) for (const u of JSON.parse(a.templates_json) as string[]) assert.ok(!u.startsWith('2.25.') || u === archive.templateSeries, `template ${u} mapped home`);
  assert.deepEqual(importPackage(db, pkg).already, 1, 'idempotent');

  // export dataset --deidentify over the imported, approved results.
  for (const r of results) setReviewState(db, r.id, 'approved', 'physicist');
  const ds = join(dir, 'dataset');
  const out = await exportNnunet(db, { templateSet: TEMPLATE_SET, out: ds, deidentify: {} });
  assert.deepEqual(out.cases.map((c) => c.caseId), ['case_0001']);
  const dsFiles = filesUnder(ds);
  assert.deepEqual(dsFiles.map((f) => f.slice(ds.length)).sort(), ['/dataset.json', '/imagesTr/case_0001_0000.nii.gz', '/labelsTr/case_0001.nii.gz']);
  assertNoneIn(dsFiles, needles);
  assert.match(readFileSync(join(ds, 'dataset.json'), 'utf8'), /"deidentification"/);

  // Images that declare burned-in annotation: refused, naming the file, unless a person overrides.
  const victim = getInstances(db, query)[0]!.path;
  rewrite(victim, victim, (d) => {
    d['00280301'] = { vr: 'CS', Value: ['YES'] };
  });
  await assert.rejects(exportNnunet(db, { templateSet: TEMPLATE_SET, out: join(dir, 'ds2'), deidentify: {} }), (e: Error) => e.message.includes(victim) && /BurnedInAnnotation/.test(e.message));
  assert.deepEqual(readdirSync(dir).filter((f) => f === 'ds2'), [], 'nothing written');
  await exportNnunet(db, { templateSet: TEMPLATE_SET, out: join(dir, 'ds3'), deidentify: { allowBurnedInAnnotation: true } });
  await assert.rejects(exportPackage(db, { templateSet: TEMPLATE_SET, series: archive.series, dir: join(dir, 'pkg2'), shards: 1, backend: 'atlas', deidentify: {} }), /BurnedInAnnotation \(0028,0301\) YES.*refused/);
});
