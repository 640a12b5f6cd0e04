/**
 * De-identified exports (DICOM PS3.15 Annex E, Basic Profile) on a phantom that carries identifying
 * attributes (names, IDs, dates, accession, institution, station, a private tag) and on 4D-Lung:
 * every output byte is scanned for the source's identifiers and UIDs, pixels are unchanged (the
 * exported series re-imports voxel for voxel), UIDs are consistent within and across exports of a
 * project (the RTSTRUCT references its de-identified CT), dciodvfy finds no error, burned-in
 * annotation is refused unless overridden.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importPaths } from '../../../electron/engine/dicom/import.js';
import { exportDicomSeries } from '../../../electron/engine/deid/export-dicom.js';
import { readPart10, seqOf, strOf } from '../../../electron/engine/rtstruct/dcmjs.js';
import { listExports } from '../../../electron/engine/rtstruct/exports-log.js';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { upsertSegmentation } from '../../../electron/engine/store/results.js';
import { loadVolume } from '../../../electron/engine/volume/load.js';
import { writeNifti } from '../../../electron/engine/nifti/nifti.js';
import { voxelToPatient } from '../../../electron/engine/volume/geometry.js';
import { writePhantomSeries } from '../../fixtures/phantom/phantom.js';
import { toBigEndian } from '../../fixtures/phantom/variants.js';
import { requireData, tempDir } from '../../helpers/data.js';
import { assertNoneIn, cli, dciodvfyErrors, filesUnder, hasDciodvfy, identifiedPhantom, IDENTIFYING, sourceIdentifiers } from './helpers.js';

test('export dicom --deidentify: no identifier in any output byte, pixels unchanged, references consistent, dciodvfy clean', async (t) => {
  const dir = tempDir(t);
  const ph = identifiedPhantom(dir);
  assert.match(readFileSync(ph.files[0]!.path).toString('latin1'), /PRIVATE-SECRET-4711/, 'fixture carries its private tag');
  const db = openDatabase(join(dir, 'a.sqlite'));
  t.after(() => db.close());
  const imp = await importPaths(db, [join(dir, 'ct')]);
  assert.equal(imp.series.length, 1);
  const sources = filesUnder(join(dir, 'ct'));
  const out = join(dir, 'out');
  const [s] = exportDicomSeries(db, { seriesUids: [ph.seriesUid], outDir: out, withResults: true, deidentify: true });
  assert.equal(s!.images, 6);
  assert.deepEqual(s!.objects.map((o) => o.kind), ['RTSTRUCT']);
  const outFiles = filesUnder(out);
  assert.equal(outFiles.length, 7);
  const uids = sourceIdentifiers(sources);
  assert.ok(uids.size >= 6 + 4, `collected ${uids.size} source UIDs`);
  const scanned = assertNoneIn(outFiles, [...Object.values(IDENTIFYING), ...IDENTIFYING.PatientName.split('^'), ...IDENTIFYING.OperatorsName.split('^'), '20260101', '19700101', 'PRIVATE-SECRET-4711', 'ACME PRIVATE', ...uids]);
  assert.ok(scanned > 20);
  // De-identification attributes, and the pseudonym series.
  const cts = outFiles.filter((f) => /\/CT-\d+\.dcm$/.test(f)).map((f) => readPart10(f).dataset);
  for (const d of cts) {
    assert.equal(strOf(d, 'PatientIdentityRemoved'), 'YES');
    assert.deepEqual(seqOf(d, 'DeidentificationMethodCodeSequence').map((c) => strOf(c, 'CodeValue')), ['113100']);
    assert.match(strOf(d, 'PatientID'), /^DEID-[0-9A-F]{10}$/);
    assert.equal(strOf(d, 'SeriesInstanceUID'), s!.writtenSeriesUid);
    assert.equal(strOf(d, 'StudyDate'), '');
  }
  // The RTSTRUCT references the de-identified CT: series, frame of reference and an image of it.
  const rs = readPart10(join(s!.dir, 'RTSTRUCT-01.dcm')).dataset;
  const refFor = seqOf(rs, 'ReferencedFrameOfReferenceSequence')[0]!;
  assert.equal(strOf(refFor, 'FrameOfReferenceUID'), strOf(cts[0]!, 'FrameOfReferenceUID'));
  const refSeries = seqOf(seqOf(refFor, 'RTReferencedStudySequence')[0]!, 'RTReferencedSeriesSequence')[0]!;
  assert.equal(strOf(refSeries, 'SeriesInstanceUID'), s!.writtenSeriesUid);
  const refSop = strOf(seqOf(refSeries, 'ContourImageSequence')[0]!, 'ReferencedSOPInstanceUID');
  assert.ok(cts.some((d) => strOf(d, 'SOPInstanceUID') === refSop), 'the contour image is one of the exported CT images');
  assert.equal(strOf(rs, 'PatientID'), strOf(cts[0]!, 'PatientID'));
  // Pixels unchanged: the exported series imports into a fresh archive voxel for voxel.
  const db2 = openDatabase(':memory:');
  const re = await importPaths(db2, [s!.dir]);
  assert.deepEqual(re.skipped, []);
  const a = await loadVolume(db, ph.seriesUid);
  const b = await loadVolume(db2, s!.writtenSeriesUid);
  assert.deepEqual(b.dims, a.dims);
  assert.deepEqual(Array.from(b.data), Array.from(a.data));
  for (let i = 0; i < a.data.length; i += 97) assert.equal(a.data[i], ph.huAt(voxelToPatient(a, [i % 24, Math.floor(i / 24) % 20, Math.floor(i / 480)])));
  if (!hasDciodvfy()) t.diagnostic('dciodvfy absent: IOD check skipped');
  else assert.deepEqual(dciodvfyErrors(join(s!.dir, 'CT-0001.dcm')), []);

  // A second export of the same project reuses every pseudonym; another project gets new ones.
  const [again] = exportDicomSeries(db, { seriesUids: [ph.seriesUid], outDir: join(dir, 'out2'), deidentify: true });
  assert.equal(again!.writtenSeriesUid, s!.writtenSeriesUid);
  assert.equal(strOf(readPart10(join(again!.dir, 'CT-0003.dcm')).dataset, 'SOPInstanceUID'), strOf(cts[2]!, 'SOPInstanceUID'));
  const [other] = exportDicomSeries(db, { seriesUids: [ph.seriesUid], outDir: join(dir, 'out3'), deidentify: true, project: 'trial-B' });
  assert.notEqual(other!.writtenSeriesUid, s!.writtenSeriesUid);
  // The mapping stays in the database: its pseudonyms are there, the originals are in no export.
  const stored = db.prepare('SELECT COUNT(*) AS n FROM deid_uids WHERE project = ?').get('default') as { n: number };
  assert.ok(stored.n >= uids.size);
});

test('modified dates: every date shifted by one per-patient offset; burned-in annotation refused unless overridden', async (t) => {
  const dir = tempDir(t);
  const ph = identifiedPhantom(dir, { BurnedInAnnotation: 'YES' });
  const db = openDatabase(join(dir, 'a.sqlite'));
  t.after(() => db.close());
  await importPaths(db, [join(dir, 'ct')]);
  const out = join(dir, 'out');
  assert.throws(() => exportDicomSeries(db, { seriesUids: [ph.seriesUid], outDir: out, deidentify: true }), /BurnedInAnnotation \(0028,0301\) YES.*refused/);
  assert.deepEqual(readdirSync(out), [], 'a refused series leaves nothing behind');
  const [s] = exportDicomSeries(db, { seriesUids: [ph.seriesUid], outDir: out, deidentify: true, modifiedDates: true, allowBurnedInAnnotation: true });
  const d = readPart10(join(s!.dir, 'CT-0001.dcm')).dataset;
  const days = (x: string): number => Date.UTC(Number(x.slice(0, 4)), Number(x.slice(4, 6)) - 1, Number(x.slice(6, 8))) / 86_400_000;
  const shift = days(strOf(d, 'StudyDate')) - days(IDENTIFYING.StudyDate);
  assert.ok(shift <= -365 && shift >= -3650, `offset ${shift} days`);
  assert.equal(days(strOf(d, 'SeriesDate')) - days(IDENTIFYING.SeriesDate), shift);
  assert.equal(days(strOf(d, 'ContentDate')) - days(IDENTIFYING.ContentDate), shift);
  assert.equal(strOf(d, 'PatientBirthDate'), '');
  assert.equal(strOf(d, 'LongitudinalTemporalInformationModified'), 'MODIFIED');
  assert.deepEqual(seqOf(d, 'DeidentificationMethodCodeSequence').map((c) => strOf(c, 'CodeValue')), ['113100', '113107']);
});

test('CLI: export rtstruct --deidentify references the CT that export dicom --deidentify wrote; export labels --deidentify', async (t) => {
  const dir = tempDir(t);
  const ph = identifiedPhantom(dir);
  const dbFile = join(dir, 'a.sqlite');
  assert.equal(cli(['import', join(dir, 'ct'), '--db', dbFile, '--json']).status, 0);
  // A label map on the phantom grid: the right lung.
  const [nx, ny, nz] = ph.geometry.dims;
  const data = new Uint8Array(nx * ny * nz);
  const g = { ...ph.geometry, data };
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) if (ph.huAt(voxelToPatient(g, [i, j, k])) === -800) data[i + nx * (j + ny * k)] = 1;
  writeNifti(join(dir, 'lab.nii.gz'), g);
  writeFileSync(join(dir, 'lab.json'), '{"1": "Lung_R"}');
  const rsOut = join(dir, 'export', 'rs.dcm');
  const rs = cli(['export', 'rtstruct', '--series', ph.seriesUid, '--labels', join(dir, 'lab.nii.gz'), '--names', join(dir, 'lab.json'), '--out', rsOut, '--deidentify', '--db', dbFile, '--json']);
  assert.equal(rs.status, 0, rs.stderr);
  const ex = cli(['export', 'dicom', '--series', ph.seriesUid, '--out', join(dir, 'export', 'ct'), '--deidentify', '--db', dbFile, '--json']);
  assert.equal(ex.status, 0, ex.stderr);
  const exported = JSON.parse(ex.stdout) as { series: { writtenSeriesUid: string; dir: string }[] };
  const outFiles = filesUnder(join(dir, 'export'));
  assert.deepEqual(outFiles.filter((f) => /partial|identified/.test(f)), []);
  assertNoneIn(outFiles, [...Object.values(IDENTIFYING), ...sourceIdentifiers(filesUnder(join(dir, 'ct')))]);
  const d = readPart10(rsOut).dataset;
  const refSeries = seqOf(seqOf(seqOf(d, 'ReferencedFrameOfReferenceSequence')[0]!, 'RTReferencedStudySequence')[0]!, 'RTReferencedSeriesSequence')[0]!;
  assert.equal(strOf(refSeries, 'SeriesInstanceUID'), exported.series[0]!.writtenSeriesUid);
  assert.equal(strOf(d, 'StructureSetLabel'), 'DEIDENTIFIED');
  assert.equal(seqOf(d, 'StructureSetROISequence').map((r) => strOf(r, 'ROIName')).join(), 'Lung_R');
  if (hasDciodvfy()) assert.deepEqual(dciodvfyErrors(rsOut), []);
  const lb = cli(['export', 'labels', '--series', ph.seriesUid, '--out', join(dir, 'l.nii.gz'), '--deidentify', '--db', dbFile, '--json']);
  // No stored results on this archive: the command refuses, naming the series; nothing to de-identify.
  assert.notEqual(lb.status, 0);
  assert.match(lb.stderr, new RegExp(ph.seriesUid.replace(/\./g, '\\.')));
});

test('4D-Lung CT and RTSTRUCT: de-identified export holds none of the source identifiers; dciodvfy adds no error', async (t) => {
  const root = requireData(t, '4dlung');
  if (!root) return;
  const dir = tempDir(t);
  const db = openDatabase(join(dir, 'a.sqlite'));
  t.after(() => db.close());
  const imp = await importPaths(db, [root]);
  const ct = imp.series.find((s) => s.modality === 'CT')!;
  const [s] = exportDicomSeries(db, { seriesUids: [ct.seriesUid], outDir: join(dir, 'out'), withResults: true, deidentify: true });
  assert.deepEqual(s!.objects.map((o) => o.kind), ['RTSTRUCT']);
  const sources = filesUnder(root).filter((f) => f.endsWith('.dcm'));
  const src0 = readPart10(sources.find((f) => f.includes('/ct/'))!).dataset;
  const needles = [strOf(src0, 'PatientID'), strOf(src0, 'PatientName'), strOf(src0, 'AccessionNumber'), strOf(src0, 'StudyDate'), strOf(src0, 'InstanceCreationDate'), 'CTP', '68345010', '4D-Lung', ...sourceIdentifiers(sources)];
  assert.ok(needles.length > 100);
  const outFiles = filesUnder(join(dir, 'out'));
  assertNoneIn(outFiles, needles);
  if (!hasDciodvfy()) return;
  const before = new Set(dciodvfyErrors(sources.find((f) => f.includes('/rtstruct/'))!));
  for (const e of dciodvfyErrors(join(s!.dir, 'RTSTRUCT-01.dcm'))) assert.ok(before.has(e), `new dciodvfy error: ${e}`);
  const ctBefore = new Set(dciodvfyErrors(sources.find((f) => f.includes('/ct/'))!));
  for (const e of dciodvfyErrors(join(s!.dir, 'CT-0001.dcm'))) assert.ok(ctBefore.has(e), `new dciodvfy error: ${e}`);
});

test('export dicom keeps big-endian and encapsulated (RLE, JPEG-LS, JPEG lossless) pixel data: re-imported voxel for voxel', async (t) => {
  const dir = tempDir(t);
  const ph = writePhantomSeries(join(dir, 'src'), { seed: 'deid-ts', columns: 16, rows: 12, slices: 3 });
  const encoders: [string, (src: string, dst: string) => boolean][] = [
    ['big endian', (s, d) => (toBigEndian(s, d), true)],
    ...(['dcmcrle', 'dcmcjpls', 'dcmcjpeg'] as const).map((tool): [string, (s: string, d: string) => boolean] => [
      tool,
      (s, d) => spawnSync(tool, [...(tool === 'dcmcjpeg' ? ['+e1'] : []), s, d]).status === 0,
    ]),
  ];
  for (const [name, encode] of encoders) {
    const ct = join(dir, name, 'ct');
    mkdirSync(ct, { recursive: true });
    if (!ph.files.every((f) => encode(f.path, join(ct, f.path.split('/').pop()!)))) {
      t.diagnostic(`${name}: encoder absent, skipped`);
      continue;
    }
    const db = openDatabase(':memory:');
    await importPaths(db, [ct]);
    const a = await loadVolume(db, ph.seriesUid);
    const [s] = exportDicomSeries(db, { seriesUids: [ph.seriesUid], outDir: join(dir, name, 'out'), deidentify: true });
    const db2 = openDatabase(':memory:');
    assert.deepEqual((await importPaths(db2, [s!.dir])).skipped, [], name);
    assert.deepEqual(Array.from((await loadVolume(db2, s!.writtenSeriesUid)).data), Array.from(a.data), name);
  }
});

test('CLI: export seg / rtstruct / dicom --with-results --deidentify: no identifier in files or stdout, references the de-identified CT, the log names final paths, dciodvfy clean', async (t) => {
  const dir = tempDir(t);
  const ph = identifiedPhantom(dir);
  const dbFile = join(dir, 'a.sqlite');
  assert.equal(cli(['import', join(dir, 'ct'), '--db', dbFile, '--json']).status, 0);
  // A stored result on the series: the right lung of the phantom.
  const [nx, ny, nz] = ph.geometry.dims;
  const mask = new Uint8Array(nx * ny * nz);
  const g = { ...ph.geometry, data: mask };
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) if (ph.huAt(voxelToPatient(g, [i, j, k])) === -800) mask[i + nx * (j + ny * k)] = 1;
  const voxels = mask.reduce((a, b) => a + b, 0);
  assert.ok(voxels > 0);
  const db = openDatabase(dbFile);
  db.prepare("INSERT INTO template_sets (name) VALUES ('thorax')").run();
  upsertSegmentation(db, { seriesUid: ph.seriesUid, templateSet: 'thorax', segmenter: 'test', models: [], structures: [{ name: 'Lung_R', mask, voxels, volumeCc: 0 }] });
  db.close();
  const segOut = join(dir, 'export', 'seg.dcm');
  const seg = cli(['export', 'seg', '--series', ph.seriesUid, '--out', segOut, '--deidentify', '--db', dbFile, '--json']);
  assert.equal(seg.status, 0, seg.stderr);
  const rsOut = join(dir, 'export', 'rs.dcm');
  const rs = cli(['export', 'rtstruct', '--series', ph.seriesUid, '--out', rsOut, '--deidentify', '--db', dbFile, '--json']);
  assert.equal(rs.status, 0, rs.stderr);
  const ex = cli(['export', 'dicom', '--series', ph.seriesUid, '--out', join(dir, 'export', 'ct'), '--with-results', '--deidentify', '--db', dbFile, '--json']);
  assert.equal(ex.status, 0, ex.stderr);
  const exported = JSON.parse(ex.stdout) as { series: { seriesUid?: string; writtenSeriesUid: string; dir: string; objects: { file: string }[] }[] };
  assert.equal(exported.series[0]!.seriesUid, undefined, 'the original series UID is not printed');
  const outFiles = filesUnder(join(dir, 'export'));
  assert.deepEqual(outFiles.filter((f) => /partial|identified/.test(f)), []);
  const needles = [...Object.values(IDENTIFYING), ...sourceIdentifiers(filesUnder(join(dir, 'ct')))];
  assertNoneIn(outFiles, needles);
  // What the commands print travels too (scripts' logs, tickets): none of it names the source.
  for (const [name, r] of [['seg', seg], ['rtstruct', rs], ['dicom', ex]] as const) {
    for (const n of needles) assert.ok(n.length < 4 || !`${r.stdout}${r.stderr}`.includes(n), `export ${name} printed '${n}'`);
  }
  // The exports log and the audit trail name the files as they stand, with the UIDs written.
  const check = openDatabase(dbFile, { readonly: true });
  const log = listExports(check, ph.seriesUid);
  const audited = (check.prepare(`SELECT detail_json FROM audit WHERE action = 'exported'`).all() as { detail_json: string }[]).map((a) => a.detail_json);
  check.close();
  const withResults = join(exported.series[0]!.dir, 'RTSTRUCT-01.dcm');
  assert.deepEqual(log.map((l) => [l.kind, l.path]), [['seg', segOut], ['rtstruct', rsOut], ['rtstruct', withResults]]);
  for (const l of log) {
    assert.ok(existsSync(l.path), `${l.path} logged and present`);
    assert.equal(l.sopInstanceUid, strOf(readPart10(l.path).dataset, 'SOPInstanceUID'), `${l.path}: the log holds the UID written`);
  }
  for (const p of [segOut, rsOut, withResults]) assert.ok(audited.some((a) => a.includes(JSON.stringify(p))), `audit names ${p}`);
  assert.ok(!audited.some((a) => /identified-|delineate-partial|\.partial/.test(a)), 'no temporary path in the audit trail');
  const d = readPart10(segOut).dataset;
  assert.equal(strOf(d, 'PatientIdentityRemoved'), 'YES');
  assert.equal(strOf(seqOf(d, 'ReferencedSeriesSequence')[0]!, 'SeriesInstanceUID'), exported.series[0]!.writtenSeriesUid);
  assert.equal(seqOf(d, 'SegmentSequence').map((s) => strOf(s, 'SegmentLabel')).join(), 'Lung_R');
  if (hasDciodvfy()) assert.deepEqual(dciodvfyErrors(segOut), []);
});
