/**
 * The ranking stage (a coarse global alignment for every template, the full global stage only for
 * the chosen ones) and the shared pyramids that make a template job cheaper without changing its
 * result.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registerAffine } from '../../../electron/engine/registration/affine.js';
import { clipNormalize, downsample, Pyramid, smoothInPlace } from '../../../electron/engine/registration/image.js';
import { DEFAULT_ATLAS_OPTIONS, runTemplateJob, type TemplateJob } from '../../../electron/engine/registration/template-job.js';
import { centredAffine, eulerToMatrix } from '../../../electron/engine/registration/transform.js';
import { extremePointsFromLabels } from '../../../electron/engine/localize/extreme-points.js';
import type { Vec3 } from '../../../electron/engine/volume/geometry.js';
import type { Volume } from '../../../electron/engine/volume/volume.js';
import { phantom } from './phantom.js';

const DIMS: Vec3 = [40, 36, 36];
const SPACING: Vec3 = [4, 4, 4];

/** The textbook separable Gaussian with replicated borders, one tap at a time. */
function smoothReference(data: Float32Array, dims: Vec3, sigma: Vec3): void {
  const strides = [1, dims[0], dims[0] * dims[1]];
  for (let axis = 0; axis < 3; axis++) {
    const s = sigma[axis]!;
    if (!(s > 0.05)) continue;
    const r = Math.max(1, Math.ceil(3 * s));
    const k = new Float32Array(2 * r + 1);
    let sum = 0;
    for (let x = -r; x <= r; x++) sum += k[x + r] = Math.exp((-x * x) / (2 * s * s));
    for (let x = 0; x < k.length; x++) k[x] = k[x]! / sum;
    const src = Float32Array.from(data);
    for (let n = 0; n < data.length; n++) {
      const c = Math.floor(n / strides[axis]!) % dims[axis]!;
      let acc = 0;
      for (let t = -r; t <= r; t++) {
        const cc = Math.min(dims[axis]! - 1, Math.max(0, c + t));
        acc += k[t + r]! * src[n + (cc - c) * strides[axis]!]!;
      }
      data[n] = acc;
    }
  }
}

test('smoothInPlace matches the reference Gaussian exactly, also on axes shorter than the kernel', () => {
  let seed = 3;
  for (const [dims, sigma] of [[[17, 9, 5], [1.2, 0.7, 2.5]], [[4, 30, 3], [3, 1, 0]], [[23, 17, 11], [1, 1.5, 2.4]], [[9, 30, 1], [1.5, 0.5, 1]]] as [Vec3, Vec3][]) {
    const a = new Float32Array(dims[0] * dims[1] * dims[2]);
    for (let n = 0; n < a.length; n++) a[n] = ((seed = (seed * 16807) % 2147483647) % 1000) / 7;
    const b = Float32Array.from(a);
    smoothInPlace(a, dims, sigma);
    smoothReference(b, dims, sigma);
    assert.deepEqual(a, b);
  }
});

test('Pyramid levels are the downsampled images, built once; registration with shared pyramids gives the same transform', () => {
  const t = phantom(DIMS, SPACING);
  const q = phantom(DIMS, SPACING, centredAffine(eulerToMatrix(0.05, 0, 0), [0, 0, 0], [-6, 8, 5]));
  const fixed = clipNormalize(q.ct, -200, 1500);
  const moving = clipNormalize(t.ct, -200, 1500);
  const p = new Pyramid(moving);
  assert.deepEqual(p.level(12).data, downsample(moving, 12).data);
  assert.equal(p.level(12), p.level(12));
  assert.equal(p.gradient(8), p.gradient(8));
  const plain = registerAffine(fixed, moving, { levels: [12, 8] });
  const pyramids = { fixed: new Pyramid(fixed), moving: new Pyramid(moving) };
  assert.deepEqual(registerAffine(fixed, moving, { levels: [12, 8], pyramids }).matrix, plain.matrix);
  // A local registration sharing the same pyramids (its levels were built by the global one).
  const region = { min: [0, 0, -25] as Vec3, max: [30, 30, 15] as Vec3 };
  assert.deepEqual(
    registerAffine(fixed, moving, { init: plain.matrix, region, levels: [8], pyramids }).matrix,
    registerAffine(fixed, moving, { init: plain.matrix, region, levels: [8] }).matrix,
  );
});

test('the ranking job aligns coarsely and scores; a chosen template then gets the full global stage', () => {
  const t = phantom(DIMS, SPACING);
  const q = phantom(DIMS, SPACING, centredAffine(eulerToMatrix(0.05, 0, 0), [0, 0, 0], [-6, 8, 5]));
  const structures = [{ name: 'Organ', points: extremePointsFromLabels({ ...t.ct, data: t.organ }, 1)!, mask: t.organ }];
  const job = (o: Partial<typeof DEFAULT_ATLAS_OPTIONS>): TemplateJob => ({
    query: q.ct as Volume<Float32Array>, template: t.ct as Volume<Float32Array>, structures, wantMasks: false,
    options: { ...DEFAULT_ATLAS_OPTIONS, globalLevels: [12, 8], localLevels: [8], ...o },
  });
  const rank = runTemplateJob({ ...job({ rankLevels: [12] }), rankOnly: true });
  assert.equal(rank.transforms.coarse, true);
  assert.equal(rank.structures.length, 0);
  const score = rank.transforms.rank!['Organ']!;
  assert.ok(score > 0.8, `a matching template scores high after the coarse alignment (${score})`);
  // The full job from the ranking's transforms equals a job that never ranked, and keeps the score.
  const full = runTemplateJob({ ...job({ rankLevels: [12] }), known: rank.transforms });
  const fresh = runTemplateJob(job({ rankLevels: [12] }));
  assert.equal(full.transforms.coarse, undefined);
  assert.deepEqual(full.transforms.global, fresh.transforms.global);
  assert.equal(full.transforms.rank!['Organ'], score);
  assert.deepEqual(full.structures[0]!.points, fresh.structures[0]!.points);
  // A thread that reuses the prepared query (same queryKey) gives the same results.
  const keyed = runTemplateJob({ ...job({ rankLevels: [12] }), queryKey: 'q1' });
  const keyedAgain = runTemplateJob({ ...job({ rankLevels: [12] }), queryKey: 'q1' });
  assert.deepEqual(keyed.transforms, fresh.transforms);
  assert.deepEqual(keyedAgain.structures[0]!.points, fresh.structures[0]!.points);
  // rankLevels [] ranks after the full global stage, whose transform the later job reuses.
  const old = runTemplateJob({ ...job({ rankLevels: [] }), rankOnly: true });
  assert.equal(old.transforms.coarse, undefined);
  assert.deepEqual(old.transforms.global, fresh.transforms.global);
});
