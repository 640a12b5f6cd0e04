import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskToContours, sliceRings } from '../../../electron/engine/contours/mask-to-contours.js';
import { contoursToMask } from '../../../electron/engine/contours/rasterize.js';
import { signedArea2 } from '../../../electron/engine/contours/simplify.js';
import { patientToVoxel, type Geometry, type Mat3, type Vec3 } from '../../../electron/engine/volume/geometry.js';

function grid(dims: Vec3, direction: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1]): Geometry {
  return { dims, spacing: [0.8, 1.2, 3], origin: [-20.5, 13.25, 100], direction };
}

function paint(g: Geometry, f: (i: number, j: number, k: number) => boolean): Uint8Array {
  const [w, h, d] = g.dims;
  const m = new Uint8Array(w * h * d);
  for (let k = 0; k < d; k++) for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) m[i + w * (j + h * k)] = f(i, j, k) ? 1 : 0;
  return m;
}

function roundTrip(m: Uint8Array, g: Geometry): Uint8Array {
  const cs = maskToContours(m, g);
  const r = contoursToMask(cs.map((c) => c.points), g);
  assert.deepEqual(r.skipped, []);
  return r.mask;
}

function areaMm2(points: Vec3[], g: Geometry): number {
  const v = points.map((p) => patientToVoxel(g, p));
  return (Math.abs(signedArea2(v.map((x) => [x[0], x[1]]))) / 2) * g.spacing[0] * g.spacing[1];
}

test('one voxel becomes a square on its voxel edges, not a diamond', () => {
  const g = grid([5, 4, 3]);
  const m = paint(g, (i, j, k) => i === 2 && j === 1 && k === 1);
  const cs = maskToContours(m, g);
  assert.equal(cs.length, 1);
  assert.equal(cs[0]!.sliceIndex, 1);
  assert.equal(cs[0]!.points.length, 4);
  assert.ok(Math.abs(areaMm2(cs[0]!.points, g) - 0.8 * 1.2) < 1e-9);
  for (const p of cs[0]!.points) {
    const v = patientToVoxel(g, p);
    assert.ok(Math.abs(Math.abs(v[0] - 2) - 0.5) < 1e-9 && Math.abs(Math.abs(v[1] - 1) - 0.5) < 1e-9, `corner ${v}`);
    assert.ok(Math.abs(v[2] - 1) < 1e-9);
  }
  assert.deepEqual(roundTrip(m, g), m);
});

test('a ring keeps its hole: two rings on the slice, even-odd rasterisation restores the hole', () => {
  const g = grid([12, 12, 1]);
  const m = paint(g, (i, j) => {
    const r = Math.hypot(i - 5.5, j - 5.5);
    return r <= 5 && r >= 2.5;
  });
  const cs = maskToContours(m, g);
  assert.equal(cs.length, 2, 'outer boundary and hole');
  const areas = cs.map((c) => areaMm2(c.points, g)).sort((a, b) => a - b);
  const voxels = m.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(areas[1]! - areas[0]! - voxels * 0.8 * 1.2) < 1e-6, 'outer minus hole area equals the voxel area');
  const back = roundTrip(m, g);
  assert.equal(back[5 + 12 * 5], 0, 'centre of the hole stays empty');
  assert.deepEqual(back, m);
});

test('islands, an island inside a hole, and diagonal neighbours (saddles) round-trip exactly', () => {
  const g = grid([14, 10, 2]);
  const m = paint(g, (i, j, k) => {
    if (k === 0) return (i >= 1 && i <= 3 && j >= 1 && j <= 3) || (i >= 7 && i <= 12 && j >= 2 && j <= 8 && !(i >= 8 && i <= 11 && j >= 3 && j <= 7)) || (i === 9 && j === 5);
    return (i + j) % 2 === 0 && i < 6 && j < 6; // checkerboard: every cell a saddle
  });
  const cs = maskToContours(m, g);
  assert.equal(cs.filter((c) => c.sliceIndex === 0).length, 4, 'square, frame outer, frame hole, island in the hole');
  assert.deepEqual(roundTrip(m, g), m);
  // Saddle cells keep the diagonal cut, so no two rings share a vertex.
  const seen = new Set<string>();
  for (const c of cs.filter((x) => x.sliceIndex === 1)) {
    for (const p of c.points) {
      const key = p.map((v) => v.toFixed(6)).join(',');
      assert.ok(!seen.has(key), `vertex ${key} shared between rings`);
      seen.add(key);
    }
  }
});

test('an empty mask gives no contours', () => {
  const g = grid([6, 6, 3]);
  assert.deepEqual(maskToContours(new Uint8Array(108), g), []);
  assert.deepEqual(sliceRings(new Uint8Array(36), 6, 6), []);
});

test('a structure touching the image edge closes on the outer voxel edges', () => {
  const g = grid([6, 5, 1]);
  const m = paint(g, () => true);
  const cs = maskToContours(m, g);
  assert.equal(cs.length, 1);
  assert.equal(cs[0]!.points.length, 4);
  const v = cs[0]!.points.map((p) => patientToVoxel(g, p));
  assert.ok(Math.abs(Math.min(...v.map((x) => x[0])) + 0.5) < 1e-9);
  assert.ok(Math.abs(Math.max(...v.map((x) => x[0])) - 5.5) < 1e-9);
  assert.ok(Math.abs(Math.max(...v.map((x) => x[1])) - 4.5) < 1e-9);
  assert.deepEqual(roundTrip(m, g), m);
});

test('non-axial grids (sagittal, oblique) are handled: rings lie in their slice planes and round-trip', () => {
  const c = Math.cos(0.3);
  const s = Math.sin(0.3);
  const dirs: Mat3[] = [
    [0, 0, 1, 1, 0, 0, 0, -1, 0], // sagittal: i -> P, j -> -S, k -> L
    [c, -s, 0, s * 0.6, c * 0.6, -0.8, s * 0.8, c * 0.8, 0.6], // oblique rotation
  ];
  for (const dir of dirs) {
    const g = grid([9, 8, 4], dir);
    const m = paint(g, (i, j, k) => Math.hypot(i - 4, j - 3.5) < 3.2 + k * 0.4 && !(i === 4 && j === 4));
    const cs = maskToContours(m, g);
    for (const ct of cs) {
      for (const p of ct.points) assert.ok(Math.abs(patientToVoxel(g, p)[2] - ct.sliceIndex) < 1e-9);
    }
    assert.deepEqual(roundTrip(m, g), m);
  }
});

test('simplification stays within the stated tolerance and keeps the mask close', () => {
  const g: Geometry = { dims: [64, 64, 1], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
  const m = paint(g, (i, j) => Math.hypot(i - 31.5, j - 31.5) < 25);
  const exact = maskToContours(m, g);
  const simple = maskToContours(m, g, { simplifyMm: 0.75 });
  assert.equal(simple.length, 1);
  assert.ok(simple[0]!.points.length < exact[0]!.points.length * 0.6, `${simple[0]!.points.length} vs ${exact[0]!.points.length}`);
  // Every exact vertex is within tolerance of the simplified ring.
  const ring = simple[0]!.points;
  for (const p of exact[0]!.points) {
    let best = Infinity;
    for (let n = 0; n < ring.length; n++) {
      const a = ring[n]!;
      const b = ring[(n + 1) % ring.length]!;
      const dx = b[0] - a[0];
      const dy = b[1] - a[1];
      const t = Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy)));
      best = Math.min(best, Math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy));
    }
    assert.ok(best <= 0.75 + 1e-9, `exact vertex ${p} is ${best} mm from the simplified ring`);
  }
  const back = contoursToMask(ring.length ? [ring] : [], g).mask;
  let inter = 0;
  let sa = 0;
  let sb = 0;
  for (let n = 0; n < m.length; n++) { inter += m[n]! & back[n]!; sa += m[n]!; sb += back[n]!; }
  assert.ok((2 * inter) / (sa + sb) > 0.98);
});

test('random masks round-trip exactly through contours', () => {
  let seed = 12345;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const g = grid([17, 13, 3]);
  for (let t = 0; t < 5; t++) {
    const m = paint(g, () => rnd() < 0.45);
    assert.deepEqual(roundTrip(m, g), m);
  }
});

test('rings off every slice plane are reported, not moved', () => {
  const g = grid([5, 5, 3]);
  const r = contoursToMask([[[-20, 14, 101.5], [-18, 14, 101.5], [-18, 16, 101.5]]], g);
  assert.equal(r.skipped.length, 1);
  assert.match(r.skipped[0]!.reason, /mm from slice plane/);
});
