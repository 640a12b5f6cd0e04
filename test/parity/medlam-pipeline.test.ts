/**
 * MedLAM parity, network stages (README checkpoints 3-7): template fc and kernels, the query's mean
 * fc with the reference's recorded crop centres, the coarse points (within 0.01 mm), the multi-scale
 * similarity and the final points and boxes (within 1 voxel of the 3 mm grid for >= 95% of the
 * points, 2 for all). Runs on the float64-InstanceNorm export the case names (README O1).
 *
 * Each 64^3 patch costs about a second on 2 CPU threads with the small parity model; to keep this file
 * near a minute, a case's structures are taken in label order until DELINEATE_PARITY_PATCHES (default
 * 160) network patches are spent. DELINEATE_PARITY_FULL=1 checks every structure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dataDir, parityDir } from '../helpers/data.js';
import { findMedlamCases, readNumbers, rows } from './medlam-golden.js';
import { caseConstants, loadInputs, parityModelFile, structureLabels, templateRows } from './medlam-parity.js';
import { MedlamNet } from '../../electron/engine/localize/medlam-net.js';
import { computeSupport } from '../../electron/engine/localize/support.js';
import { backTransform, coarse, queryFc, refine } from '../../electron/engine/localize/query.js';
import { basename, dirname } from 'node:path';
import type { Vec3 } from '../../electron/engine/volume/geometry.js';

const cases = findMedlamCases(parityDir());
const FULL = process.env.DELINEATE_PARITY_FULL === '1';
const BUDGET = Number(process.env.DELINEATE_PARITY_PATCHES ?? 160);

for (const c of cases) {
  test(`MedLAM ${c.json.case}: network stages, coarse and refined points match the reference`, async (t) => {
    const model = parityModelFile(c);
    if (!existsSync(model)) {
      t.skip(`model ${model} absent`);
      return;
    }
    const k = caseConstants(c);
    let inputs;
    try {
      inputs = loadInputs(c, dataDir(), k);
    } catch (e) {
      t.skip(`inputs of case ${c.json.case} unavailable: ${(e as Error).message}`);
      return;
    }
    const { query, support } = inputs;
    const net = await MedlamNet.open({
      dir: dirname(model),
      format: 1,
      models: [{ name: basename(model), role: 'medlam-full', file: basename(model), sha256: '0'.repeat(64), inputs: ['x'], outputs: ['fc_position', 'feature0', 'feature1', 'feature2'] }],
    });
    const centres = rows(readNumbers(c, 'query_crop_centres_vox')) as Vec3[];
    const q = await queryFc(net, query, centres, k);
    const gq = readNumbers(c, 'query_fc_mean');
    for (let a = 0; a < 3; a++) assert.ok(Math.abs(q.fcMean[a]! - gq[a]!) * k.distanceRatioZyx[a]! <= 0.01, `query fc mean axis ${a}`);
    const gStart = c.json.query.mean_crop_position_mm as number[] | undefined;
    if (gStart) for (let a = 0; a < 3; a++) assert.ok(Math.abs(q.startMm[a]! - gStart[a]!) < 1e-9, 'mean crop position');

    let spent = centres.length;
    let within1 = 0;
    let identical = 0;
    let total = 0;
    let worst = 0;
    const checked: number[] = [];
    for (const s of structureLabels(c)) {
      const tRows = templateRows(c, support, s, k);
      const cost = tRows.length * tRows[0]!.length + tRows[0]!.length;
      if (!FULL && checked.length > 0 && spent + cost > BUDGET) continue;
      spent += cost;
      checked.push(s);
      const sup = await computeSupport(net, tRows.map((r, i) => ({ volume: support.volumes[i]!, rows: r })), k);
      // Support positions: the mean fc, in mm of relative distance.
      const gfc = readNumbers(c, `s${s}_support_fc_mean`);
      for (let i = 0; i < gfc.length; i++) {
        assert.ok(Math.abs(sup.fc[i]! - gfc[i]!) * k.distanceRatioZyx[i % 3]! <= 0.01, `structure ${s}: support fc row ${Math.floor(i / 3)}`);
      }
      for (let sc = 0; sc < 3; sc++) {
        const g = readNumbers(c, `s${s}_kernel_feature${sc}`);
        let d = 0;
        for (let i = 0; i < g.length; i++) d = Math.max(d, Math.abs(g[i]! - sup.kernels[sc]![i]!));
        assert.ok(d <= 1e-3, `structure ${s}: kernel feature${sc} max |diff| ${d}`);
      }
      const co = coarse(sup, q, k);
      const gmm = rows(readNumbers(c, `s${s}_coarse_mm`));
      co.coarseMm.forEach((r, i) => r.forEach((v, a) => assert.ok(Math.abs(v - gmm[i]![a]!) <= 0.01, `structure ${s}: coarse row ${i} axis ${a}: ${v} vs ${gmm[i]![a]}`)));
      const gvox = rows(readNumbers(c, `s${s}_coarse_vox`));
      const margin = c.json.structures[String(s)]?.coarse_round_margin_vox ?? 0;
      co.coarseVox.forEach((r, i) => r.forEach((v, a) => {
        const d = Math.abs(v - gvox[i]![a]!);
        assert.ok(d === 0 || (d === 1 && margin < 1e-3), `structure ${s}: coarse voxel row ${i} axis ${a}: ${v} vs ${gvox[i]![a]}`);
      }));
      const m = await refine(net, query, sup, co.coarseVox, k);
      const gref = rows(readNumbers(c, `s${s}_refined_vox_unpadded`));
      m.refinedUnpadded.forEach((r, i) => {
        const d = Math.max(...r.map((v, a) => Math.abs(v - gref[i]![a]!)));
        total++;
        if (d <= 1) within1++;
        if (d === 0) identical++;
        worst = Math.max(worst, d);
      });
      // Final points and boxes in LPS: the 3 mm tolerance plus one original voxel of rounding.
      const parts = backTransform(query, m.refinedUnpadded);
      const tolMm = 2 * Math.max(...k.targetSpacingMm) + Math.max(...query.map.spacing);
      const gl = readNumbers(c, `s${s}_final_corner_lps_mm`);
      const mine = parts.flatMap((p) => p.cornerLps).flat();
      assert.equal(mine.length, gl.length, `structure ${s}: number of box corners`);
      mine.forEach((v, i) => assert.ok(Math.abs(v - gl[i]!) <= tolMm, `structure ${s}: box corner value ${i}: ${v} vs ${gl[i]}`));
      const ge = readNumbers(c, `s${s}_final_extreme_lps_mm`);
      parts.flatMap((p) => p.extremeLps).flat().forEach((v, i) => assert.ok(Math.abs(v - ge[i]!) <= tolMm, `structure ${s}: extreme point value ${i}`));
    }
    t.diagnostic(`case ${c.json.case}: structures ${checked.join(',')} checked (${spent} patches); refined points identical to the reference: ${identical}/${total}, within 1 voxel: ${within1}/${total}, worst ${worst}`);
    assert.ok(total > 0, 'no structure checked');
    assert.ok(within1 >= 0.95 * total, `refined points within 1 voxel: ${within1}/${total}`);
    assert.ok(worst <= 2, `a refined point is ${worst} voxels from the reference`);
  });
}
