/**
 * Saving a reviewer's mask edit (electron/engine/review/edit.ts, issue 16): a new revision is stored
 * and the previous one kept, the structure is marked edited, goes back to pending review, the audit
 * entry counts the voxels added and removed, a structure the template set lacks can be drawn from
 * scratch, the RTSTRUCT export writes the latest revision as MANUAL, and the metrics can be measured
 * against a chosen reference RTSTRUCT of the series.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { API_METHODS } from '../../../electron/api-methods.js';
import { auditTrail } from '../../../electron/engine/audit/audit.js';
import { maskToWire, wireToMask } from '../../../electron/engine/review/rle.js';
import { readPart10, seqOf, strOf } from '../../../electron/engine/rtstruct/dcmjs.js';
import { exportResultsRtstruct } from '../../../electron/engine/rtstruct/export.js';
import { getSeriesGeometry } from '../../../electron/engine/store/archive.js';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { getResultMask, getResults, getRevisionMask, listRevisions, upsertLocalization, upsertSegmentation } from '../../../electron/engine/store/results.js';
import { TEMPLATE_SET } from '../jobs/archive.js';
import { openReviewService } from './harness.js';

test('a mask edit is a new revision: previous kept, edited, pending, audited, exported', { timeout: 120_000 }, async (t) => {
  const { dir, archive, service } = await openReviewService(t, 'delineate-edit-', 1);
  const [uid] = archive.series as [string];
  const db = openDatabase(archive.dbFile);
  t.after(() => db.close());
  const g = getSeriesGeometry(db, uid);
  const [nx, ny, nz] = g.dims;
  const n = nx * ny * nz;
  const at = (i: number, j: number, k: number): number => i + nx * (j + ny * k);
  // A stored "segmenter" result: a 10x10x6 block.
  const first = new Uint8Array(n);
  for (let k = 6; k < 12; k++) for (let j = 15; j < 25; j++) for (let i = 15; i < 25; i++) first[at(i, j, k)] = 1;
  upsertLocalization(db, { seriesUid: uid, templateSet: TEMPLATE_SET, localizer: 'atlas', mode: 'wpl', models: [], structures: [{ name: 'Liver', boxes: [{ min: [-50, -50, -70], max: [50, 50, -30] }], extremePoints: [], confidence: 0.9, flags: [] }] });
  upsertSegmentation(db, { seriesUid: uid, templateSet: TEMPLATE_SET, segmenter: 'atlas', models: [], structures: [{ name: 'Liver', mask: first, voxels: 600, volumeCc: 600 * 0.15 }] });
  await service.reviewStructures({ seriesUids: [uid], templateSet: TEMPLATE_SET, structure: 'Liver', state: 'approved', reviewer: 'J. Doe' });

  const original = join(dir, 'original.dcm');
  exportResultsRtstruct(db, uid, original, { templateSet: TEMPLATE_SET, approvedOnly: true });

  const loaded = await service.getStructureMask(API_METHODS.getStructureMask({ seriesUid: uid, templateSet: TEMPLATE_SET, structure: 'Liver' }));
  assert.equal(loaded.revision, 1);
  assert.equal(loaded.voxels, 600);
  assert.deepEqual(loaded.dims, [nx, ny, nz]);
  assert.deepEqual(wireToMask(loaded.runs, n, 'test'), first);

  // The edit: one slice (k = 9) extended by a 3x10 strip, another (k = 6) erased.
  const edited = first.slice();
  for (let j = 15; j < 25; j++) for (let i = 25; i < 28; i++) edited[at(i, j, 9)] = 1;
  for (let j = 15; j < 25; j++) for (let i = 15; i < 25; i++) edited[at(i, j, 6)] = 0;
  const saved = await service.saveStructureEdit(API_METHODS.saveStructureEdit({ seriesUid: uid, templateSet: TEMPLATE_SET, structure: 'Liver', runs: maskToWire(edited), reviewer: 'A. Physicist', baseRevision: 1 }));
  assert.deepEqual(saved, { structure: 'Liver', revision: 2, voxels: 600 + 30 - 100, volumeCc: (530 * 5 * 5 * 6) / 1000, voxelsAdded: 30, voxelsRemoved: 100, created: false });

  const row = getResults(db, uid, TEMPLATE_SET).find((r) => r.structure === 'Liver')!;
  assert.equal(row.reviewState, 'pending', 'an edit returns the structure to review');
  assert.ok((row.flags as string[]).includes('edited'));
  assert.equal(row.revision, 2);
  assert.equal(row.revisionSource, 'edit');
  assert.deepEqual(getResultMask(db, row.id), edited, 'the current mask is the edit');
  assert.deepEqual(getRevisionMask(db, row.id, 1), first, 'the previous revision is kept');
  assert.deepEqual(listRevisions(db, row.id).map((r) => [r.revision, r.source, r.current]), [[1, 'segmenter', false], [2, 'edit', true]]);
  const old = await service.getStructureMask({ seriesUid: uid, templateSet: TEMPLATE_SET, structure: 'Liver', revision: 1 });
  assert.deepEqual(wireToMask(old.runs, n, 'test'), first);
  const entry = auditTrail(db, { seriesUid: uid, templateSet: TEMPLATE_SET, structure: 'Liver' }).at(-1)!;
  assert.equal(entry.action, 'edited');
  assert.equal(entry.actor, 'A. Physicist');
  assert.deepEqual(
    { added: entry.detail.voxelsAdded, removed: entry.detail.voxelsRemoved, revision: entry.detail.revision, previous: entry.detail.previousRevision },
    { added: 30, removed: 100, revision: 2, previous: 1 },
  );

  // A save based on a superseded revision is refused; nothing changes.
  await assert.rejects(
    service.saveStructureEdit({ seriesUid: uid, templateSet: TEMPLATE_SET, structure: 'Liver', runs: maskToWire(first), reviewer: 'B', baseRevision: 1 }),
    /Liver on series .*revision 2 was saved since/,
  );
  // Bad masks name the structure and series.
  await assert.rejects(service.saveStructureEdit({ seriesUid: uid, templateSet: TEMPLATE_SET, structure: 'Liver', runs: maskToWire(new Uint8Array(n)), reviewer: 'B' }), /Liver on series .*empty; reject/);
  await assert.rejects(service.saveStructureEdit({ seriesUid: uid, templateSet: TEMPLATE_SET, structure: 'Liver', runs: maskToWire(new Uint8Array(n - 1).fill(1)), reviewer: 'B' }), /Liver on series .*cover \d+ voxels, the grid has/);
  await assert.rejects(service.saveStructureEdit({ seriesUid: uid, templateSet: TEMPLATE_SET, structure: 'Liver', runs: maskToWire(edited), reviewer: ' ' }), /needs a reviewer/);
  assert.equal(getResults(db, uid, TEMPLATE_SET).find((r) => r.structure === 'Liver')!.revision, 2);

  // A structure the template set lacks, drawn from scratch.
  const drawn = new Uint8Array(n);
  for (let k = 3; k < 5; k++) for (let j = 5; j < 9; j++) for (let i = 5; i < 9; i++) drawn[at(i, j, k)] = 1;
  const made = await service.saveStructureEdit({ seriesUid: uid, templateSet: TEMPLATE_SET, structure: 'GTV_Drawn', runs: maskToWire(drawn), reviewer: 'A. Physicist' });
  assert.equal(made.created, true);
  assert.equal(made.revision, 1);
  assert.equal(made.voxelsAdded, 32);
  const review = await service.getReview({ seriesUid: uid, templateSet: TEMPLATE_SET });
  const gtv = review.structures.find((s) => s.structure === 'GTV_Drawn')!;
  assert.equal(gtv.state, 'pending');
  assert.equal(gtv.hasMask, true);
  assert.equal(gtv.boxes.length, 1, 'a drawn structure gets the box of its voxels');
  assert.equal(auditTrail(db, { seriesUid: uid, templateSet: TEMPLATE_SET, structure: 'GTV_Drawn' }).at(-1)!.action, 'created');

  // The export writes the latest revision, as MANUAL: the erased slice has no contour, the edited one does.
  for (const s of ['Liver', 'GTV_Drawn']) await service.reviewStructures({ seriesUids: [uid], templateSet: TEMPLATE_SET, structure: s, state: 'approved', reviewer: 'A. Physicist' });
  const out = join(dir, 'edited.dcm');
  exportResultsRtstruct(db, uid, out, { templateSet: TEMPLATE_SET, approvedOnly: true });
  const ds = readPart10(out).dataset;
  const rois = seqOf(ds, 'StructureSetROISequence');
  const numberOf = new Map(rois.map((r) => [strOf(r, 'ROIName'), strOf(r, 'ROINumber')]));
  assert.equal(new Map(rois.map((r) => [strOf(r, 'ROIName'), strOf(r, 'ROIGenerationAlgorithm')])).get('Liver'), 'MANUAL');
  const liver = seqOf(ds, 'ROIContourSequence').find((c) => strOf(c, 'ReferencedROINumber') === numberOf.get('Liver'))!;
  const zOf = (k: number): number => g.origin[2] + k * g.spacing[2] * g.direction[8];
  const zs = seqOf(liver, 'ContourSequence').map((c) => Number((c.ContourData as number[])[2]));
  assert.ok(!zs.some((z) => Math.abs(z - zOf(6)) < 1e-3), 'the erased slice has no contour');
  // The metrics panel's reference picker: both exports in the archive, each chosen in turn.
  await service.importPaths({ paths: [original, out] });
  const byRef = await service.getReview({ seriesUid: uid, templateSet: TEMPLATE_SET });
  assert.equal(byRef.references?.length, 2);
  const uidOf = (file: string): string => strOf(readPart10(file).dataset, 'SOPInstanceUID');
  const diceAgainst = async (file: string): Promise<number | null | undefined> =>
    (await service.getReview(API_METHODS.getReview({ seriesUid: uid, templateSet: TEMPLATE_SET, reference: uidOf(file) }))).structures.find((s) => s.structure === 'Liver')?.metrics?.dice;
  const vsEdited = await diceAgainst(out);
  const vsOriginal = await diceAgainst(original);
  assert.ok(vsEdited !== null && vsEdited !== undefined && vsEdited > 0.99, `the edit against its own export: Dice ${vsEdited}`);
  assert.ok(vsOriginal !== null && vsOriginal !== undefined && vsOriginal < vsEdited, `against the pre-edit export: Dice ${vsOriginal} < ${vsEdited}`);
  await assert.rejects(service.getReview({ seriesUid: uid, templateSet: TEMPLATE_SET, reference: '2.25.404' }), /no reference RTSTRUCT 2\.25\.404/);

  const x = seqOf(liver, 'ContourSequence').filter((c) => Math.abs(Number((c.ContourData as number[])[2]) - zOf(9)) < 1e-3).flatMap((c) => (c.ContourData as number[]).filter((_, i) => i % 3 === 0));
  const xOf = (i: number): number => g.origin[0] + i * g.spacing[0] * g.direction[0];
  assert.ok(Math.max(...x.map((v) => v * Math.sign(g.direction[0]))) >= xOf(27) * Math.sign(g.direction[0]) - 1e-6, 'the edited slice reaches the added strip');
});
