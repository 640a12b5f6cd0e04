/**
 * Series geometry from slice headers: sorting along the slice normal (not InstanceNumber), spacing,
 * origin, direction from ImageOrientationPatient, and the refusals (tilt, 4D) and drops (localizer).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assembleSeries, directionFromOrientation, modalSpacing, type SliceInput } from '../../../electron/engine/dicom/assemble.js';
import { UnsupportedError } from '../../../electron/engine/errors.js';
import type { Vec3 } from '../../../electron/engine/volume/geometry.js';

function stack(opts: { iop?: number[]; origin?: Vec3; step?: Vec3; positions?: number[]; ps?: [number, number] } = {}): SliceInput[] {
  const iop = opts.iop ?? [1, 0, 0, 0, 1, 0];
  const o = opts.origin ?? [-100, -120, -50];
  const step = opts.step ?? [0, 0, 2.5];
  const ks = opts.positions ?? [0, 1, 2, 3, 4, 5];
  return ks.map((k, n) => ({
    id: `s${n}`,
    position: [o[0] + step[0] * k, o[1] + step[1] * k, o[2] + step[2] * k],
    orientation: iop,
    pixelSpacing: opts.ps ?? [0.8, 0.7],
    rows: 40,
    columns: 50,
  }));
}

test('sorts by position along the normal, whatever the input order', () => {
  const s = stack();
  const shuffled = [s[3]!, s[0]!, s[5]!, s[1]!, s[4]!, s[2]!];
  const a = assembleSeries(shuffled, 'S');
  assert.deepEqual(a.slices.map((p) => p.slice.id), ['s0', 's1', 's2', 's3', 's4', 's5']);
  assert.deepEqual(a.slices.map((p) => p.k), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(a.geometry.origin, [-100, -120, -50]);
  assert.equal(a.uniform, true);
});

test('spacing is [column spacing, row spacing, slice step] and dims [columns, rows, slices]', () => {
  const a = assembleSeries(stack({ ps: [0.8, 0.7] }), 'S');
  assert.deepEqual(a.geometry.spacing.slice(0, 2), [0.7, 0.8]);
  assert.ok(Math.abs(a.geometry.spacing[2] - 2.5) < 1e-9);
  assert.deepEqual(a.geometry.dims, [50, 40, 6]);
});

test('feet-first order: the origin is the most inferior slice when the normal points superior', () => {
  // Positions given from superior to inferior; the normal of an axial IOP is +z (superior).
  const a = assembleSeries(stack({ origin: [0, 0, 100], step: [0, 0, -3] }), 'S');
  assert.deepEqual(a.geometry.origin, [0, 0, 85]);
  assert.equal(a.geometry.direction[8], 1);
});

test('direction columns are the row cosine, the column cosine and their cross product', () => {
  const c = Math.SQRT1_2;
  const d = directionFromOrientation([c, c, 0, 0, 0, -1]);
  // i = (c, c, 0), j = (0, 0, -1), k = i x j = (-c, c, 0)
  const col = (m: number[], k: number): number[] => [m[k]!, m[3 + k]!, m[6 + k]!];
  const close = (a: number[], b: number[]): void => a.forEach((x, i) => assert.ok(Math.abs(x - b[i]!) < 1e-12, `${a} vs ${b}`));
  close(col(d, 0), [c, c, 0]);
  close(col(d, 1), [0, 0, -1]);
  close(col(d, 2), [-c, c, 0]);
});

test('oblique stack: positions stepping along an oblique normal are accepted', () => {
  const c = Math.SQRT1_2;
  const iop = [c, c, 0, 0, 0, -1];
  const n: Vec3 = [-c * 2, c * 2, 0];
  const a = assembleSeries(stack({ iop, step: n, positions: [2, 0, 1, 3] }), 'S');
  assert.ok(Math.abs(a.geometry.spacing[2] - 2) < 1e-9);
  assert.deepEqual(a.geometry.origin, [-100, -120, -50]);
});

test('gantry tilt (positions off the normal) is refused with the angle', () => {
  const t = (15 * Math.PI) / 180;
  const iop = [1, 0, 0, 0, Math.cos(t), Math.sin(t)];
  assert.throws(() => assembleSeries(stack({ iop, step: [0, 0, 2] }), 'TILT'), (e: unknown) => {
    assert.ok(e instanceof UnsupportedError);
    assert.match(e.message, /15\.0 degrees/);
    assert.match(e.message, /TILT/);
    return true;
  });
});

test('several images at one position are refused', () => {
  assert.throws(() => assembleSeries(stack({ positions: [0, 1, 1, 2] }), 'DUP'), /more than one image/);
});

test('non-uniform spacing warns with the gaps and builds a uniform grid', () => {
  const a = assembleSeries(stack({ positions: [0, 1, 2, 4, 5, 6] }), 'GAP');
  assert.equal(a.uniform, false);
  assert.equal(a.geometry.dims[2], 7);
  assert.ok(Math.abs(a.geometry.spacing[2] - 2.5) < 1e-9);
  assert.equal(a.warnings.length, 1);
  assert.match(a.warnings[0]!, /5\.00 mm after slice 2/);
  assert.deepEqual(a.slices.map((p) => p.k), [0, 1, 2, 4, 5, 6]);
});

test('a localizer with another orientation is dropped with a reason, the axial stack kept', () => {
  const s = stack();
  const loc: SliceInput = { id: 'loc', position: [0, 0, 0], orientation: [0, 1, 0, 0, 0, -1], pixelSpacing: [1, 1], rows: 40, columns: 50, imageType: ['ORIGINAL', 'PRIMARY', 'LOCALIZER'] };
  const a = assembleSeries([...s.slice(0, 3), loc, ...s.slice(3)], 'LOC');
  assert.equal(a.slices.length, 6);
  assert.equal(a.dropped.length, 1);
  assert.equal(a.dropped[0]!.slice.id, 'loc');
  assert.match(a.dropped[0]!.reason, /localizer/);
});

test('missing ImagePositionPatient drops the slice with a reason', () => {
  const s = stack();
  s[2] = { ...s[2]!, position: null };
  const a = assembleSeries(s, 'S');
  assert.equal(a.slices.length, 5);
  assert.match(a.dropped[0]!.reason, /ImagePositionPatient/);
});

test('modal spacing picks the most common gap', () => {
  assert.ok(Math.abs(modalSpacing([3, 3, 6, 3, 2.999]) - 2.99975) < 1e-9);
});
