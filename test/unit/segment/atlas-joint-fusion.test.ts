import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxMean, jointFusionMembership, solveOnes, type JointFusionOptions } from '../../../electron/engine/segment/atlas/joint-fusion.js';
import { fusedMembership, fuseMasks } from '../../../electron/engine/segment/atlas/fuse-masks.js';
import type { TemplateJobResult } from '../../../electron/engine/registration/template-job.js';
import type { Volume } from '../../../electron/engine/volume/volume.js';
import type { Vec3 } from '../../../electron/engine/volume/geometry.js';

const OPTS: JointFusionOptions = { patchRadiusMm: 1, beta: 2, alpha: 0.1, clipHu: [-200, 1500], unitHu: 100 };
const IDENTITY = [1, 0, 0, 0, 1, 0, 0, 0, 1] as Volume['direction'];

/** A line of `n` voxels: fat (-100 HU) with organ (40 HU) on [a, b]. */
function line(n: number, a: number, b: number): Float32Array {
  const v = new Float32Array(n).fill(-100);
  for (let i = a; i <= b; i++) v[i] = 40;
  return v;
}

function template(n: number, a: number, b: number, ncc = 0.9, withIntensity = true): TemplateJobResult {
  const prob = new Uint8Array(n);
  for (let i = a; i <= b; i++) prob[i] = 255;
  const mask = { crop: { lo: [0, 0, 0] as Vec3, dims: [n, 1, 1] as Vec3 }, prob, ...(withIntensity ? { intensity: Int16Array.from(line(n, a, b)) } : {}) };
  return { transforms: { global: [], globalNcc: 0, local: {} }, structures: [{ name: 'X', points: [], ncc, mask }], ms: 0 };
}

function inside(p: ArrayLike<number>): number[] {
  return Array.from(p).flatMap((x, i) => (x >= 0.5 ? [i] : []));
}

test('joint label fusion: two templates that fail alike do not outvote the one that matches the query', () => {
  // The organ is at 5..9. Templates A and B (the same mistake twice) put it at 8..12, C at 5..9;
  // each warped CT shows the organ where its mask is, so A and B disagree with the query at 5..7
  // and 10..12 together, and C matches everywhere.
  const n = 20;
  const volume: Volume = { dims: [n, 1, 1], spacing: [1, 1, 1], origin: [0, 0, 0], direction: IDENTITY, data: line(n, 5, 9) };
  const results = [template(n, 8, 12), template(n, 8, 12), template(n, 5, 9)];
  assert.deepEqual(inside(fusedMembership('X', volume, results)), [8, 9, 10, 11, 12], 'majority vote follows the repeated mistake');
  const p = jointFusionMembership('X', volume, results, OPTS);
  assert.deepEqual(inside(p), [5, 6, 7, 8, 9]);
  for (const x of p) assert.ok(x >= 0 && x <= 1);
});

test('local search moves a template that is one voxel off back onto the organ the query shows', () => {
  const n = 20;
  const volume: Volume = { dims: [n, 1, 1], spacing: [1, 1, 1], origin: [0, 0, 0], direction: IDENTITY, data: line(n, 5, 9) };
  const results = [template(n, 6, 10), template(n, 6, 10)];
  assert.deepEqual(inside(jointFusionMembership('X', volume, results, OPTS)), [6, 7, 8, 9, 10]);
  assert.deepEqual(inside(jointFusionMembership('X', volume, results, { ...OPTS, searchMm: 1 })), [5, 6, 7, 8, 9]);
});

test('joint label fusion reproduces templates that agree, and a lone template', () => {
  const n = 12;
  const volume: Volume = { dims: [n, 1, 1], spacing: [1, 1, 1], origin: [0, 0, 0], direction: IDENTITY, data: line(n, 2, 5) };
  const same = jointFusionMembership('X', volume, [template(n, 3, 7), template(n, 3, 7)], OPTS);
  assert.deepEqual(inside(same), [3, 4, 5, 6, 7]);
  assert.deepEqual(inside(jointFusionMembership('X', volume, [template(n, 1, 4)], OPTS)), [1, 2, 3, 4]);
  assert.equal(jointFusionMembership('X', volume, [], OPTS).reduce((a, b) => a + b, 0), 0);
});

test('joint label fusion refuses templates registered without their warped CT, naming the structure', () => {
  const volume: Volume = { dims: [6, 1, 1], spacing: [1, 1, 1], origin: [0, 0, 0], direction: IDENTITY, data: line(6, 1, 2) };
  assert.throws(() => jointFusionMembership('X', volume, [template(6, 1, 2, 0.9, false), template(6, 1, 2)], OPTS), /joint label fusion of X: .*warped CT was not kept/);
});

test('joint label fusion over several slabs equals the fusion in one piece (3-D, crops offset)', () => {
  // Two crops of a 30 x 6 x 40 grid; the result must not depend on how the domain is cut.
  const dims: Vec3 = [30, 6, 40];
  const N = dims[0] * dims[1] * dims[2];
  const data = new Float32Array(N);
  for (let q = 0; q < N; q++) data[q] = 300 * Math.sin(q * 0.37) + 100 * Math.cos(q * 0.011);
  const volume: Volume = { dims, spacing: [1, 1, 2], origin: [0, 0, 0], direction: IDENTITY, data };
  const mk = (lo: Vec3, cd: Vec3, seed: number): TemplateJobResult => {
    const m = cd[0] * cd[1] * cd[2];
    const prob = new Uint8Array(m);
    const intensity = new Int16Array(m);
    for (let t = 0; t < m; t++) {
      prob[t] = (t * seed) % 7 < 3 ? 255 : (t * seed) % 11 === 0 ? 128 : 0;
      intensity[t] = Math.round(200 * Math.sin(t * 0.13 * seed));
    }
    return { transforms: { global: [], globalNcc: 0, local: {} }, structures: [{ name: 'X', points: [], ncc: 0.8, mask: { crop: { lo, dims: cd }, prob, intensity } }], ms: 0 };
  };
  const results = [mk([2, 0, 3], [20, 6, 30], 3), mk([5, 1, 8], [22, 5, 32], 5), mk([0, 0, 0], [18, 6, 25], 2)];
  const whole = jointFusionMembership('X', volume, results, { ...OPTS, patchRadiusMm: 2 });
  const slabbed = jointFusionMembership('X', volume, results, { ...OPTS, patchRadiusMm: 2 }, 200);
  let maxDiff = 0;
  for (let q = 0; q < N; q++) maxDiff = Math.max(maxDiff, Math.abs(whole[q]! - slabbed[q]!));
  assert.ok(maxDiff < 1e-5, `slabbed fusion differs by ${maxDiff}`);
  assert.ok(whole.some((x) => x > 0 && x < 1), 'the test exercises voxels where the templates disagree');
});

test('box mean equals the brute-force mean over the clipped box', () => {
  const dims = [5, 4, 3];
  const f = Float32Array.from({ length: 60 }, (_, n) => Math.sin(n) * 10);
  const r = [1, 2, 1];
  const want = new Float32Array(60);
  for (let k = 0; k < 3; k++) {
    for (let j = 0; j < 4; j++) {
      for (let i = 0; i < 5; i++) {
        let s = 0;
        let c = 0;
        for (let kk = Math.max(0, k - 1); kk <= Math.min(2, k + 1); kk++) {
          for (let jj = Math.max(0, j - 2); jj <= Math.min(3, j + 2); jj++) {
            for (let ii = Math.max(0, i - 1); ii <= Math.min(4, i + 1); ii++, c++) s += f[ii + 5 * (jj + 4 * kk)]!;
          }
        }
        want[i + 5 * (j + 4 * k)] = s / c;
      }
    }
  }
  boxMean(f, dims, r);
  for (let q = 0; q < 60; q++) assert.ok(Math.abs(f[q]! - want[q]!) < 1e-4, `voxel ${q}: ${f[q]} vs ${want[q]}`);
});

test('solveOnes solves a symmetric positive definite system', () => {
  const M = Float64Array.from([4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 2]);
  const A = Float64Array.from(M);
  const w = new Float64Array(3);
  solveOnes(M, 3, w);
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(A[i * 3]! * w[0]! + A[i * 3 + 1]! * w[1]! + A[i * 3 + 2]! * w[2]! - 1) < 1e-9);
});

test('templates that disagree give a low-confidence structure, templates that agree do not', () => {
  const n = 30;
  const volume: Volume = { dims: [n, 1, 1], spacing: [1, 1, 1], origin: [0, 0, 0], direction: IDENTITY, data: line(n, 10, 19) };
  const agree = [template(n, 10, 19), template(n, 10, 19), template(n, 11, 19)];
  const scattered = [template(n, 0, 9), template(n, 10, 19), template(n, 20, 29)];
  const a = fuseMasks('X', volume, agree, 0.5, 0, jointFusionMembership('X', volume, agree, OPTS));
  const s = fuseMasks('X', volume, scattered, 0.5, 0, jointFusionMembership('X', volume, scattered, OPTS));
  assert.ok(!a.flags.includes('low-confidence'), `flags ${a.flags.join(',')}, confidence ${a.confidence}`);
  assert.ok(s.flags.includes('low-confidence'), `flags ${s.flags.join(',')}, confidence ${s.confidence}`);
  assert.ok(a.confidence > s.confidence);
});
