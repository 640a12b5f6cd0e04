/**
 * Re-running one structure with an edited box or edited extreme points (electron/engine/review/rerun.ts):
 * after an atlas batch on a phantom series, a shifted box replaces the stored one, the new mask lies in
 * it, review goes back to pending, the audit records the edit, and the RTSTRUCT export marks that ROI
 * MANUAL while the others stay AUTOMATIC. The CLI `review rerun --points` derives the box from six points.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ApiEvents } from '../../../electron/api.js';
import { API_METHODS } from '../../../electron/api-methods.js';
import { cliInProcess } from '../../helpers/cli.js';
import { readPart10, seqOf, strOf } from '../../../electron/engine/rtstruct/dcmjs.js';
import { exportResultsRtstruct } from '../../../electron/engine/rtstruct/export.js';
import { auditTrail } from '../../../electron/engine/audit/audit.js';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { getResultMask, getResults } from '../../../electron/engine/store/results.js';
import { getSeriesGeometry } from '../../../electron/engine/store/archive.js';
import { voxelToPatient, type Vec3 } from '../../../electron/engine/volume/geometry.js';
import { STRUCTURES, TEMPLATE_SET } from '../jobs/archive.js';
import { openReviewService } from './harness.js';

const cli = cliInProcess;

/** Every mask voxel's centre lies in the box widened by `slack` mm. */
function outsideBox(db: ReturnType<typeof openDatabase>, seriesUid: string, mask: Uint8Array, box: { min: Vec3; max: Vec3 }, slack: number): number {
  const g = getSeriesGeometry(db, seriesUid);
  const geo = { dims: g.dims, spacing: g.spacing, origin: g.origin, direction: g.direction };
  const [nx, ny] = g.dims;
  let out = 0;
  mask.forEach((v, idx) => {
    if (!v) return;
    const i = idx % nx;
    const j = Math.floor(idx / nx) % ny;
    const k = Math.floor(idx / (nx * ny));
    const p = voxelToPatient(geo, [i, j, k]);
    for (let a = 0; a < 3; a++) if (p[a]! < box.min[a]! - slack || p[a]! > box.max[a]! + slack) return void out++;
  });
  return out;
}

test('re-run one structure with a shifted box (api) and with extreme points (CLI)', { timeout: 240_000 }, async (t) => {
  const { dir, archive, service } = await openReviewService(t, 'delineate-rerun-', 1);
  const finished = new Promise<ApiEvents['runProgress']>((ok) =>
    service.on('runProgress', (p) => {
      if (p.status === 'done' || p.status === 'cancelled') ok(p);
    }),
  );
  await service.startRun({ templateSet: TEMPLATE_SET, seriesUids: archive.series });
  assert.equal((await finished).status, 'done');
  const [a] = archive.series as [string];
  const [edited, other] = STRUCTURES as [string, string];

  const db = openDatabase(archive.dbFile);
  t.after(() => db.close());
  const before = getResults(db, a, TEMPLATE_SET).find((r) => r.structure === edited)!;
  const oldMask = getResultMask(db, before.id)!;
  assert.ok(oldMask && before.boxes.length === 1);
  await service.reviewStructures({ seriesUids: [a], templateSet: TEMPLATE_SET, structure: edited, state: 'approved', reviewer: 'J. Doe' });
  await service.reviewStructures({ seriesUids: [a], templateSet: TEMPLATE_SET, structure: other, state: 'approved', reviewer: 'J. Doe' });

  // Shift the box by a third of its width along L: part of the organ now falls outside it.
  const b = before.boxes[0]!;
  const shift = (b.max[0] - b.min[0]) / 3;
  const box: [Vec3, Vec3] = [[b.min[0] + shift, b.min[1], b.min[2]], [b.max[0] + shift, b.max[1], b.max[2]]];
  const req = API_METHODS.rerunStructure({ seriesUid: a, templateSet: TEMPLATE_SET, structure: edited, box, reviewer: 'J. Doe' });
  const res = await service.rerunStructure(req);
  assert.deepEqual(res.boxes, [box]);
  assert.equal(res.reviewState, 'pending');

  const after = getResults(db, a, TEMPLATE_SET).find((r) => r.structure === edited)!;
  assert.deepEqual(after.boxes, [{ min: box[0], max: box[1] }]);
  assert.equal(after.reviewState, 'pending', 'an edit sends the structure back to review');
  assert.ok((after.flags as string[]).includes('edited'));
  assert.equal(after.voxels, res.voxels);
  const newMask = getResultMask(db, after.id)!;
  assert.ok(res.voxels > 0, 'the shifted box still holds part of the organ');
  assert.ok(newMask.some((v, i) => v !== oldMask[i]), 'the mask changed');
  const slack = 0.5 * Math.max(...getSeriesGeometry(db, a).spacing) + 1e-6;
  assert.equal(outsideBox(db, a, newMask, { min: box[0], max: box[1] }, slack), 0, 'the new mask lies in the edited box');
  assert.equal(getResults(db, a, TEMPLATE_SET).find((r) => r.structure === other)?.reviewState, 'approved', 'other structures keep their review');

  const trail = auditTrail(db, { seriesUid: a, templateSet: TEMPLATE_SET, structure: edited });
  const entry = trail.at(-1)!;
  assert.equal(entry.action, 'edited');
  assert.equal(entry.actor, 'J. Doe');
  assert.deepEqual(entry.detail.oldBoxes, before.boxes);
  assert.deepEqual(entry.detail.newBox, { min: box[0], max: box[1] });

  const out = join(dir, 'edited.dcm');
  exportResultsRtstruct(db, a, out, { templateSet: TEMPLATE_SET });
  const ds = readPart10(out).dataset;
  const algo = new Map(seqOf(ds, 'StructureSetROISequence').map((r) => [strOf(r, 'ROIName'), strOf(r, 'ROIGenerationAlgorithm')]));
  assert.equal(algo.get(edited), 'MANUAL');
  for (const s of STRUCTURES.filter((n) => n !== edited)) assert.equal(algo.get(s), 'AUTOMATIC', `${s} stays AUTOMATIC`);

  // Invalid edits are refused with the structure and series named.
  await assert.rejects(
    service.rerunStructure({ seriesUid: a, templateSet: TEMPLATE_SET, structure: edited, box: [[5000, 5000, 5000], [5100, 5100, 5100]], reviewer: 'J. Doe' }),
    new RegExp(`${edited} on series ${a.replace(/\./g, '\\.')}.*outside the volume`),
  );
  await assert.rejects(
    service.rerunStructure({ seriesUid: a, templateSet: TEMPLATE_SET, structure: edited, box: [box[1], box[0]], reviewer: 'J. Doe' }),
    /min must be below max/,
  );
  assert.throws(() => API_METHODS.rerunStructure({ seriesUid: a, templateSet: TEMPLATE_SET, structure: edited, reviewer: 'J. Doe' }), /exactly one of/);

  // CLI: six extreme points give the box (per-axis min and max).
  const lung = getResults(db, a, TEMPLATE_SET).find((r) => r.structure === 'Lung_L')!;
  const lb = lung.boxes[0]!;
  const mid = (x: number): number => (lb.min[x]! + lb.max[x]!) / 2;
  const pts: Vec3[] = [
    [lb.min[0] + 4, mid(1), mid(2)], [lb.max[0] - 4, mid(1), mid(2)],
    [mid(0), lb.min[1] + 4, mid(2)], [mid(0), lb.max[1] - 4, mid(2)],
    [mid(0), mid(1), lb.min[2] + 6], [mid(0), mid(1), lb.max[2] - 6],
  ];
  const r = await cli(['review', 'rerun', '--series', a, '--set', TEMPLATE_SET, '--structure', 'Lung_L', '--points', pts.map((p) => p.join(',')).join(';'), '--reviewer', 'A. Physicist', '--db', archive.dbFile, '--json']);
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out) as { seriesUid: string; templateSet: string; structure: string; boxes: { min: Vec3; max: Vec3 }[]; voxels: number; volumeCc: number; reviewState: string };
  assert.equal(doc.seriesUid, a);
  assert.equal(doc.structure, 'Lung_L');
  assert.equal(doc.reviewState, 'pending');
  assert.deepEqual(doc.boxes, [{ min: [lb.min[0] + 4, lb.min[1] + 4, lb.min[2] + 6], max: [lb.max[0] - 4, lb.max[1] - 4, lb.max[2] - 6] }]);
  assert.ok(doc.voxels > 0 && doc.voxels <= (lung.voxels ?? 0), `a smaller box keeps at most the old voxels: ${doc.voxels} vs ${lung.voxels}`);
  assert.ok(Math.abs(doc.volumeCc - (doc.voxels * 5 * 5 * 6) / 1000) < 1e-9);
  const stored = getResults(db, a, TEMPLATE_SET).find((x) => x.structure === 'Lung_L')!;
  assert.deepEqual(stored.extremePoints, pts);
  assert.equal(auditTrail(db, { seriesUid: a, templateSet: TEMPLATE_SET, structure: 'Lung_L' }).at(-1)?.actor, 'A. Physicist');
  const bad = await cli(['review', 'rerun', '--series', a, '--set', TEMPLATE_SET, '--structure', 'Lung_L', '--points', '1,2,3;4,5,6', '--reviewer', 'A', '--db', archive.dbFile, '--json']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.out + bad.err, /six extreme points/);
});
