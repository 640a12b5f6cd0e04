/**
 * MedLAM parity, preprocessing and template points: the preprocessed query and template volumes
 * (max |diff| <= 1e-3), the reference's label resampling (Q5) and the template extreme points
 * (Q6, Q7) against every MedLAM case under DELINEATE_PARITY.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dataDir, parityDir } from '../helpers/data.js';
import { findMedlamCases, hasArray, readArray, readNumbers } from './medlam-golden.js';
import { caseConstants, loadInputs, structureLabels, templateRows } from './medlam-parity.js';

const cases = findMedlamCases(parityDir());

test('MedLAM parity goldens are present', (t) => {
  if (cases.length === 0) t.skip(`no MedLAM case folders under ${parityDir()} (set DELINEATE_PARITY)`);
});

for (const c of cases) {
  test(`MedLAM ${c.json.case}: preprocessing and template points match the reference`, (t) => {
    const k = caseConstants(c);
    let inputs;
    try {
      inputs = loadInputs(c, dataDir(), k);
    } catch (e) {
      t.skip(`inputs of case ${c.json.case} unavailable: ${(e as Error).message}`);
      return;
    }
    const { query, support } = inputs;
    const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
      assert.equal(a.length, b.length, 'array length');
      let m = 0;
      for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
      return m;
    };
    const qg = readArray(c, 'query_volume');
    assert.deepEqual(query.shape, qg.shape, 'query padded shape');
    assert.ok(maxDiff(query.data, qg.data as Float32Array) <= 1e-3, 'query volume max |diff| <= 1e-3');
    if (hasArray(c, 'support0_volume')) {
      const sg = readArray(c, 'support0_volume');
      assert.deepEqual(support.volumes[0]!.shape, sg.shape, 'template 0 padded shape');
      assert.ok(maxDiff(support.volumes[0]!.data, sg.data as Float32Array) <= 1e-3, 'template 0 volume max |diff| <= 1e-3');
    }
    if (hasArray(c, 'support0_label')) {
      const lg = readArray(c, 'support0_label');
      assert.deepEqual(support.labels[0]!.shape, lg.shape, 'template 0 label shape (floor, Q5)');
      let nd = 0;
      for (let i = 0; i < lg.data.length; i++) if (lg.data[i] !== support.labels[0]!.data[i]) nd++;
      assert.equal(nd, 0, 'template 0 resampled label map differs');
    }
    for (const s of structureLabels(c)) {
      const rows = templateRows(c, support, s, k);
      const gold = readNumbers(c, `s${s}_support_extreme_pts`);
      assert.deepEqual(rows.flat(2), gold, `structure ${s}: template extreme points`);
    }
  });
}
