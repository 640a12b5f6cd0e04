/**
 * Cross-check against an independent implementation: SciPy's exact distance transform
 * (scipy.ndimage.distance_transform_edt) and binary_erosion, as medpy and MedLSAM's evaluation use
 * them, run by Debian's /usr/bin/python3 (python3-scipy, python3-numpy). Skips when absent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateStructure } from '../../../electron/engine/metrics/evaluate.js';
import type { Vec3 } from '../../../electron/engine/volume/geometry.js';
import { tempDir } from '../../helpers/data.js';
import { grid, randomBlob, rng, shifted } from './helpers.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = new URL('./scipy_metrics.py', import.meta.url).pathname;

function scipyAvailable(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import numpy, scipy.ndimage'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} not found`;
  if (r.status !== 0) return `python3-numpy / python3-scipy missing: ${r.stderr.trim().split('\n').pop()}`;
  return undefined;
}

test('metrics agree with SciPy on random blobs with anisotropic spacing', (t) => {
  const missing = scipyAvailable();
  if (missing) {
    t.skip(`SciPy cross-check skipped: ${missing}`);
    return;
  }
  const dir = tempDir(t);
  const rand = rng(2024);
  const specs: { dims: Vec3; spacing: Vec3 }[] = [
    { dims: [40, 36, 20], spacing: [0.977, 0.977, 3] },
    { dims: [30, 44, 25], spacing: [3.9, 2.1, 1.25] },
    { dims: [25, 25, 25], spacing: [1, 1, 1] },
    { dims: [48, 20, 12], spacing: [0.5, 2.5, 5] },
  ];
  const cases = specs.flatMap((s, idx) => {
    const a = randomBlob(s.dims, s.spacing, rand);
    // One pair of unrelated blobs, one pair that overlaps closely (a blob and its shifted copy).
    const pairs = [
      [a, randomBlob(s.dims, s.spacing, rand)],
      [a, shifted(a, s.dims, [1, -1, idx % 2 === 0 ? 1 : 0])],
    ] as const;
    return pairs.map(([ma, mb], p) => {
      const fa = join(dir, `a${idx}_${p}.raw`);
      const fb = join(dir, `b${idx}_${p}.raw`);
      writeFileSync(fa, ma);
      writeFileSync(fb, mb);
      return { ...s, a: fa, b: fb, ma, mb, toleranceMm: 2 };
    });
  });
  const job = { cases: cases.map(({ dims, spacing, a, b, toleranceMm }) => ({ dims, spacing, a, b, toleranceMm })) };
  const r = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify(job), encoding: 'utf8', maxBuffer: 1 << 24 });
  assert.equal(r.status, 0, `scipy reference failed: ${r.stderr}`);
  const want = JSON.parse(r.stdout) as { dice: number; hd95: number; hausdorff: number; assd: number; surfaceDice: number }[];
  assert.equal(want.length, cases.length);
  cases.forEach((c, i) => {
    const w = want[i]!;
    const m = evaluateStructure('blob', c.ma, { mask: c.mb }, grid(c.dims, c.spacing));
    const tag = `case ${i} dims ${c.dims} spacing ${c.spacing}`;
    assert.ok(Math.abs(m.dice! - w.dice) < 1e-12, `${tag} dice ${m.dice} vs ${w.dice}`);
    assert.ok(Math.abs(m.hd95Mm! - w.hd95) < 1e-9, `${tag} hd95 ${m.hd95Mm} vs ${w.hd95}`);
    assert.ok(Math.abs(m.hausdorffMm! - w.hausdorff) < 1e-9, `${tag} hausdorff ${m.hausdorffMm} vs ${w.hausdorff}`);
    assert.ok(Math.abs(m.assdMm! - w.assd) < 1e-9, `${tag} assd ${m.assdMm} vs ${w.assd}`);
    assert.ok(Math.abs(m.surfaceDice2mm! - w.surfaceDice) < 1e-12, `${tag} surface Dice ${m.surfaceDice2mm} vs ${w.surfaceDice}`);
    // The cross-check is only worth something if the cases are not trivial.
    assert.ok(w.hd95 > 0 && w.dice < 1, `${tag} is a degenerate case`);
  });
});
