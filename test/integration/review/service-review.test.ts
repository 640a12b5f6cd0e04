/**
 * The review api over the engine service (electron/engine/service-review.ts): a run on two phantom
 * series with the weight-free atlas backend reports progress as `runProgress` events, the review
 * lists every structure with its state, batch approval is audited, and the RTSTRUCT export holds
 * only the approved structures, with the audit summary in each ROI Description.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ApiEvents } from '../../../electron/api.js';
import { readRtstruct } from '../../../electron/engine/rtstruct/read.js';
import { readPart10, seqOf, strOf } from '../../../electron/engine/rtstruct/dcmjs.js';
import { auditTrail } from '../../../electron/engine/audit/audit.js';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { STRUCTURES, TEMPLATE_SET } from '../jobs/archive.js';
import { openReviewService } from './harness.js';

test('run two series from the api, review, approve one structure on both, reject another, export approved only', { timeout: 180_000 }, async (t) => {
  const { dir, archive, service } = await openReviewService(t, 'delineate-review-', 2);

  const events: ApiEvents['runProgress'][] = [];
  const finished = new Promise<ApiEvents['runProgress']>((ok) =>
    service.on('runProgress', (p) => {
      events.push(p);
      if (p.status === 'done' || p.status === 'cancelled') ok(p);
    }),
  );
  const { runId } = await service.startRun({ templateSet: TEMPLATE_SET, seriesUids: archive.series });
  const last = await finished;
  assert.equal(last.runId, runId);
  assert.equal(last.status, 'done', `run finished: ${JSON.stringify(last)}`);
  assert.deepEqual([last.done, last.failed, last.total], [2, 0, 2]);
  const itemDone = events.filter((e) => e.item?.status === 'done').map((e) => e.item!.seriesUid);
  assert.deepEqual([...itemDone].sort(), [...archive.series].sort(), 'each item reported done');

  const runs = (await service.listRuns({})).runs;
  assert.equal(runs[0]?.runId, runId);
  assert.deepEqual(runs[0]?.items.map((i) => i.status), ['done', 'done']);

  const [a, b] = archive.series as [string, string];

  // A cancelled run reports 'cancelled', keeps its items resumable, and refuses a second cancel.
  const again = await service.startRun({ templateSet: TEMPLATE_SET, seriesUids: [a], mode: 'spl' });
  const cancelled = new Promise<ApiEvents['runProgress']>((ok) =>
    service.on('runProgress', (p) => {
      if (p.runId === again.runId && (p.status === 'cancelled' || p.status === 'done')) ok(p);
    }),
  );
  await service.cancelRun({ runId: again.runId });
  assert.equal((await cancelled).status, 'cancelled');
  const stored = (await service.listRuns({})).runs.find((r) => r.runId === again.runId);
  assert.deepEqual(stored?.items.map((i) => i.status), ['pending']);
  await assert.rejects(service.cancelRun({ runId: again.runId }), /not running/);
  const review = await service.getReview({ seriesUid: a });
  assert.equal(review.templateSet, TEMPLATE_SET);
  assert.deepEqual(review.structures.map((s) => s.structure).sort(), [...STRUCTURES].sort());
  assert.ok(review.structures.every((s) => s.state === 'pending' && s.hasMask && s.boxes.length > 0));
  assert.equal(review.reference, null);
  assert.ok(review.structures.every((s) => s.metrics === null), 'no reference, no metrics');
  // Provenance: each structure names the template scans that voted (from the audit trail), never the query.
  assert.ok(review.structures.every((s) => (s.templates?.length ?? 0) > 0 && !s.templates!.includes(a)), JSON.stringify(review.structures.map((s) => s.templates)));

  const [approve, reject] = STRUCTURES as [string, string];
  assert.deepEqual(await service.reviewStructures({ seriesUids: [a, b], templateSet: TEMPLATE_SET, structure: approve, state: 'approved', reviewer: 'J. Doe' }), { reviewed: 2 });
  await service.reviewStructures({ seriesUids: [a], templateSet: TEMPLATE_SET, structure: reject, state: 'rejected', reviewer: 'J. Doe' });
  const after = await service.getReview({ seriesUid: a, templateSet: TEMPLATE_SET });
  const state = Object.fromEntries(after.structures.map((s) => [s.structure, [s.state, s.reviewer]]));
  assert.deepEqual(state[approve], ['approved', 'J. Doe']);
  assert.deepEqual(state[reject], ['rejected', 'J. Doe']);
  assert.equal((await service.getReview({ seriesUid: b })).structures.find((s) => s.structure === approve)?.state, 'approved', 'batch approval reached the second series');

  const out = join(dir, 'approved.dcm');
  const written = await service.exportRtstruct({ seriesUid: a, approvedOnly: true, outPath: out, reviewer: 'J. Doe' });
  assert.deepEqual(written.structures, [approve]);
  assert.deepEqual(readRtstruct(out).structures.map((s) => s.name), [approve]);
  const roi = seqOf(readPart10(out).dataset, 'StructureSetROISequence')[0]!;
  assert.match(strOf(roi, 'ROIDescription'), /approved by J\. Doe/);
  assert.match(strOf(roi, 'ROIGenerationDescription'), /^Delineate /);
  await assert.rejects(service.exportRtstruct({ seriesUid: a, approvedOnly: true, outPath: 'relative.dcm' }), /must be absolute/);

  // With a reference RTSTRUCT in the archive (here the export itself, imported back) the review
  // carries metrics for the structures the reference holds, and none for the others.
  await service.importPaths({ paths: [out] });
  const scored = await service.getReview({ seriesUid: a, templateSet: TEMPLATE_SET });
  assert.equal(scored.reference?.sopInstanceUid, written.sopInstanceUid);
  assert.equal(scored.metricsProblem, undefined);
  const m = scored.structures.find((s) => s.structure === approve)?.metrics;
  assert.ok(m, 'metrics for the structure the reference holds');
  assert.ok(m.dice !== null && m.dice > 0.9, `its own contours score high: Dice ${m.dice}`);
  assert.ok(m.hd95Mm !== null && m.hd95Mm <= 6, `HD95 within a voxel: ${m.hd95Mm}`);
  assert.ok(scored.structures.filter((s) => s.structure !== approve).every((s) => s.metrics === null));

  const db = openDatabase(archive.dbFile);
  try {
    const trail = auditTrail(db, { seriesUid: a, templateSet: TEMPLATE_SET, structure: approve }).map((e) => e.action);
    assert.deepEqual(trail.slice(-2), ['approved', 'exported']);
    assert.ok(!auditTrail(db, { seriesUid: a, templateSet: TEMPLATE_SET, structure: reject }).some((e) => e.action === 'exported'));
  } finally {
    db.close();
  }
});
