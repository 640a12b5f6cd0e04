/**
 * `delineate localize` reproduces a MedLAM WPL golden case end to end through the CLI: import the
 * query and template NIfTI, add the template set from the template label map (the reference's label
 * resampling and extreme-point rule, mapped to LPS mm), localize with the case's recorded crop
 * centres, and compare the stored numbers with the golden LPS points and boxes.
 *
 * Structures: the first two of the case by default (about a minute); DELINEATE_PARITY_FULL=1 runs all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { REPO_ROOT, dataDir, parityDir, tempDir } from '../helpers/data.js';
import { findMedlamCases, inputPath, readNumbers, rows } from './medlam-golden.js';
import { caseConstants, loadInputs, parityModelFile, structureLabels, templateRows } from './medlam-parity.js';
import { sha256File } from '../../electron/engine/models/manifest.js';
import { gridToPatient } from '../../electron/engine/localize/preprocess.js';
import type { Vec3 } from '../../electron/engine/volume/geometry.js';

const FULL = process.env.DELINEATE_PARITY_FULL === '1';
const cases = findMedlamCases(parityDir()).filter((c) => c.json.constants.bbox_mode === 'WPL' && c.json.inputs.support_ct.length === 1);

function cli(args: string[], db: string): unknown {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'delineate.js'), ...args, '--db', db, '--json'], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `delineate ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

test('MedLAM CLI parity: a WPL golden case is present', (t) => {
  if (cases.length === 0) t.skip(`no single-template WPL MedLAM case under ${parityDir()}`);
});

for (const c of cases.slice(0, 1)) {
  test(`delineate localize reproduces MedLAM case ${c.json.case}`, { timeout: 900_000 }, (t) => {
    const model = parityModelFile(c);
    const names = join(dataDir(), 'openkbp', 'oar_names.json');
    const queryFile = inputPath(c, dataDir(), c.json.inputs.query_ct);
    const tplFile = inputPath(c, dataDir(), c.json.inputs.support_ct[0]!);
    if (!existsSync(model) || !queryFile || !tplFile) {
      t.skip(`inputs of case ${c.json.case} unavailable`);
      return;
    }
    const dir = tempDir(t);
    const db = join(dir, 'db.sqlite');
    const models = join(dir, 'models');
    spawnSync('mkdir', ['-p', models]);
    symlinkSync(model, join(models, basename(model)));
    writeFileSync(
      join(models, 'manifest.json'),
      JSON.stringify({ format: 1, models: [{ name: 'medlam', role: 'medlam-full', file: basename(model), sha256: sha256File(model), inputs: ['x'], outputs: ['fc_position', 'feature0', 'feature1', 'feature2'], constants: caseConstants(c) }] }),
    );
    const check = cli(['models', 'check', '--dir', models], db) as { models: { ok: boolean }[]; executionProviders: string[] };
    assert.ok(check.models.every((m) => m.ok));
    assert.ok(check.executionProviders.includes('cpu'));

    const imp = cli(['import', queryFile, tplFile], db) as { series: { seriesUid: string; description: string }[] };
    const uidOf = (f: string): string => {
      const s = imp.series.find((x) => f.includes(x.description) || x.description.includes(basename(f).replace(/\.nii(\.gz)?$/, '')));
      assert.ok(s, `series for ${f} in ${JSON.stringify(imp.series)}`);
      return s.seriesUid;
    };
    const queryUid = uidOf(queryFile);
    const tplUid = uidOf(tplFile);

    const k = caseConstants(c);
    const { support } = loadInputs(c, dataDir(), k);
    const labelNames = existsSync(names) ? (JSON.parse(String(spawnSync('cat', [names]).stdout)) as Record<string, string>) : {};
    const labels = structureLabels(c).slice(0, FULL ? undefined : 2);
    const nameOf = (s: number): string => labelNames[String(s)] ?? c.json.structures[String(s)]!.name;
    for (const s of labels) {
      const r = templateRows(c, support, s, k)[0]!;
      // Reference rows (0 zmin 1 ymin 2 xmin 3 zmax 4 ymax 5 xmax, canonical S/A/L) to the stored
      // slot order: right, left, anterior, posterior, inferior, superior.
      const lps = r.map((p) => gridToPatient(support.volumes[0]!, p));
      const slots = [lps[2]!, lps[5]!, lps[4]!, lps[1]!, lps[0]!, lps[3]!];
      cli(['template', 'add', '--set', 'parity', '--series', tplUid, '--structure', nameOf(s), '--points', slots.map((p) => p.join(',')).join(';')], db);
    }
    const out = cli(['localize', '--models', models, '--set', 'parity', '--series', queryUid, '--mode', 'wpl', '--query-crops', join(c.dir, 'case.json')], db) as {
      backend: string;
      structures: { name: string; boxes: { min: Vec3; max: Vec3 }[]; extremePoints: Vec3[]; confidence: number; flags: string[] }[];
    };
    assert.equal(out.backend, 'medlam');
    const tolMm = 2 * Math.max(...k.targetSpacingMm) + 5;
    let exact = 0;
    let count = 0;
    for (const s of labels) {
      const got = out.structures.find((x) => x.name === nameOf(s));
      assert.ok(got, `structure ${nameOf(s)} in the output`);
      const ge = rows(readNumbers(c, `s${s}_final_extreme_lps_mm`)) as Vec3[];
      got.extremePoints.forEach((p, i) => {
        count++;
        if (p.every((v, a) => Math.abs(v - ge[i]![a]!) < 1e-6)) exact++;
      });
      got.extremePoints.forEach((p, i) => p.forEach((v, a) => assert.ok(Math.abs(v - ge[i]![a]!) <= tolMm, `${nameOf(s)} point ${i} axis ${a}: ${v} vs ${ge[i]![a]}`)));
      const gc = rows(readNumbers(c, `s${s}_final_corner_lps_mm`)) as Vec3[];
      const gmin = [0, 1, 2].map((a) => Math.min(gc[0]![a]!, gc[1]![a]!));
      const gmax = [0, 1, 2].map((a) => Math.max(gc[0]![a]!, gc[1]![a]!));
      got.boxes[0]!.min.forEach((v, a) => assert.ok(Math.abs(v - gmin[a]!) <= tolMm, `${nameOf(s)} box min axis ${a}`));
      got.boxes[0]!.max.forEach((v, a) => assert.ok(Math.abs(v - gmax[a]!) <= tolMm, `${nameOf(s)} box max axis ${a}`));
      assert.ok(got.confidence >= 0 && got.confidence <= 1);
    }
    t.diagnostic(`case ${c.json.case}: ${exact}/${count} extreme points identical to the reference's LPS points`);
    // Stored: a second run reads the support features from the database cache.
    const again = cli(['localize', '--models', models, '--set', 'parity', '--series', queryUid, '--query-crops', join(c.dir, 'case.json')], db) as typeof out;
    assert.deepEqual(again.structures.map((s) => s.extremePoints), out.structures.map((s) => s.extremePoints));
  });
}
