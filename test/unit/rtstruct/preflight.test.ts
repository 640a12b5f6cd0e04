/**
 * Pre-flight on corrupted structure sets: what dciodvfy does not catch (NOTES.md) and what planning
 * systems reject, each reported as its own problem naming the structure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRtstruct } from '../../../electron/engine/rtstruct/build.js';
import { preflight } from '../../../electron/engine/rtstruct/preflight.js';
import { seqOf, type Naturalized } from '../../../electron/engine/rtstruct/dcmjs.js';
import type { Geometry } from '../../../electron/engine/volume/geometry.js';
import { handSeries } from './fixtures.js';

const g: Geometry = { dims: [10, 10, 4], spacing: [1, 1, 3], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
const mask = new Uint8Array(400);
for (let k = 1; k < 3; k++) for (let j = 2; j < 6; j++) for (let i = 2; i < 7; i++) mask[i + 10 * (j + 10 * k)] = 1;

function built(): { ds: Naturalized; series: ReturnType<typeof handSeries> } {
  const series = handSeries(g);
  const b = buildRtstruct(series, [
    { name: 'Heart', color: '#ff0000', mask },
    { name: 'Lung_L', color: '#00ffff', mask },
  ]);
  return { ds: b.dataset, series };
}

function contour(ds: Naturalized, roi: number, n: number): Naturalized {
  return seqOf(seqOf(ds, 'ROIContourSequence')[roi]!, 'ContourSequence')[n]!;
}

test('a well-formed structure set has no problems', () => {
  const { ds, series } = built();
  assert.deepEqual(preflight(ds, series).filter((p) => p.severity === 'error'), []);
});

test('each corruption is reported as its own problem, naming the structure', () => {
  const { ds, series } = built();
  const c0 = contour(ds, 0, 0);
  (c0.ContourData as string[]).pop(); // length no longer a multiple of 3
  const c1 = contour(ds, 1, 0);
  c1.NumberOfContourPoints = '99';
  const c2 = contour(ds, 1, 1);
  (c2.ContourData as string[])[0] = '1.0000000000000001';
  delete ds.ReferencedFrameOfReferenceSequence;
  seqOf(ds, 'StructureSetROISequence')[1]!.ReferencedFrameOfReferenceUID = '1.2.3';
  const problems = preflight(ds, series);
  const has = (check: string, structure?: string): boolean => problems.some((p) => p.check === check && p.severity === 'error' && (structure === undefined || p.structure === structure));
  assert.ok(has('contour-data', 'Heart'), 'ContourData not a multiple of 3');
  assert.ok(has('point-count', 'Lung_L'), 'NumberOfContourPoints disagrees');
  assert.ok(has('decimal-string', 'Lung_L'), 'DS over 16 characters');
  assert.ok(has('frame-of-reference'), 'missing ReferencedFrameOfReferenceSequence');
  assert.ok(has('frame-of-reference', 'Lung_L'), 'ROI in another frame of reference');
});

test('a contour referencing the wrong slice, a reused UID and a missing observation are refused', () => {
  const { ds, series } = built();
  const c = contour(ds, 0, 0);
  const refs = c.ContourImageSequence as Naturalized[];
  refs[0]!.ReferencedSOPInstanceUID = series.instances[3]!.sopInstanceUid;
  ds.RTROIObservationsSequence = seqOf(ds, 'RTROIObservationsSequence').slice(0, 1);
  const problems = preflight(ds, series, { usedUids: new Set([String(ds.SOPInstanceUID)]) });
  const checks = problems.filter((p) => p.severity === 'error').map((p) => `${p.check}:${p.structure ?? ''}`);
  assert.ok(checks.includes('image-ref:Heart'), checks.join(', '));
  assert.ok(checks.includes('uid-reuse:'), checks.join(', '));
  assert.ok(checks.includes('observations:Lung_L'), checks.join(', '));
});
