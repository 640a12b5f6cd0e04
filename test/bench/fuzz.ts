/**
 * `npm run bench -- fuzz [--n N] [--seed S] [--target T[,T...]] [--archive-sample K]`: fuzzes every
 * reader of outside bytes (test/fuzz/targets.ts, bridge-target.ts) and prints, per target, cases/s
 * beside the baseline (the same harness reading the unmutated seeds) and the outcome counts:
 * accepted, refused (engine error naming the file), unnamed (engine error not naming it), crash,
 * hang (> 10 s), blow-up (> 1 GB). Afterwards K mutated DICOM files (default 300) are imported
 * beside a good phantom series: the archive must pass integrity_check and hold the good series
 * voxel for voxel. Replay one case: the same --seed and --target, the index printed with a finding.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importPaths } from '../../electron/engine/dicom/import.js';
import { openDatabase } from '../../electron/engine/store/db.js';
import { loadVolume } from '../../electron/engine/volume/load.js';
import { voxelToPatient } from '../../electron/engine/volume/geometry.js';
import { writePhantomSeries } from '../fixtures/phantom/phantom.js';
import { fuzzTarget, TARGETS, type TargetReport } from '../fuzz/harness.js';
import type { Target } from '../fuzz/targets.js';

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

/** The unmutated seeds through the same worker harness: the cases/s baseline. */
function seedsOnly(t: Target): Target {
  let k = 0;
  return { ...t, mutate: (_r, seed) => (t.name === 'bridge' ? { files: [], http: { method: 'listSeries', contentType: 'application/json', body: '{}' } } : { files: seedFiles(t, seed, k++) }) };
}

function seedFiles(t: Target, seed: Uint8Array[], _k: number): [string, Uint8Array][] {
  const gz = (b: Uint8Array): boolean => b[0] === 0x1f && b[1] === 0x8b;
  switch (t.name) {
    case 'nifti': return [[gz(seed[0]!) ? 'case.nii.gz' : 'case.nii', seed[0]!]];
    case 'labels': return [[gz(seed[0]!) ? 'case.nii.gz' : 'case.nii', seed[0]!], ['case.json', seed[1]!]];
    case 'manifest': return [['manifest.json', seed[0]!], ['tiny.onnx', seed[1]!]];
    default: return [['case.dcm', seed[0]!]];
  }
}

export async function bench(args: string[]): Promise<void> {
  const n = Number(flag(args, 'n') ?? '1000');
  const seed = Number(flag(args, 'seed') ?? '1');
  const sample = Number(flag(args, 'archive-sample') ?? '300');
  const wanted = flag(args, 'target')?.split(',');
  const targets = TARGETS.filter((t) => !wanted || wanted.includes(t.name));
  if (targets.length === 0) throw new Error(`no target among ${wanted?.join(', ')}; targets: ${TARGETS.map((t) => t.name).join(', ')}`);
  const work = mkdtempSync(join(tmpdir(), 'delineate-fuzz-bench-'));
  const archiveIn = join(work, 'archive-in');
  const kept: string[] = [];
  const reports: (TargetReport & { baseline: number })[] = [];
  process.stderr.write(`fuzz: ${n} cases per target, seed ${seed}, targets ${targets.map((t) => t.name).join(', ')}\n`);
  try {
    for (const t of targets) {
      const base = await fuzzTarget(seedsOnly(t), { n: Math.min(n, 50), seed, workDir: join(work, `${t.name}-base`) });
      const rep = await fuzzTarget(t, {
        n,
        seed,
        workDir: join(work, t.name),
        onCase(i, c) {
          // Every few DICOM cases go to the archive check.
          if ((t.name === 'dicom' || t.name === 'pixels') && kept.length < sample && i % Math.max(1, Math.floor(n / (sample / 2))) === 0) {
            mkdirSync(archiveIn, { recursive: true });
            const p = join(archiveIn, `${t.name}-${i}.dcm`);
            writeFileSync(p, c.files[0]![1]);
            kept.push(p);
          }
        },
      });
      reports.push({ ...rep, baseline: base.cases / base.seconds });
      const c = rep.counts;
      process.stderr.write(`${t.name}: ${rep.cases} cases in ${rep.seconds.toFixed(1)} s; crash ${c.crash} hang ${c.hang} blow-up ${c['blow-up']} unnamed ${c.unnamed}\n`);
      for (const f of rep.findings) process.stderr.write(`  ${f.outcome} case ${f.index}: ${f.detail}\n`);
    }
    const rows = reports.map((r) => {
      const rate = r.cases / r.seconds;
      const c = r.counts;
      return `${r.target.padEnd(9)} ${String(r.cases).padStart(7)} ${rate.toFixed(1).padStart(9)} ${r.baseline.toFixed(1).padStart(9)} ${(rate / r.baseline).toFixed(2).padStart(6)} ${String(c.accepted).padStart(8)} ${String(c.refused).padStart(8)} ${String(c.unnamed).padStart(8)} ${String(c.crash).padStart(6)} ${String(c.hang).padStart(5)} ${String(c['blow-up']).padStart(8)}`;
    });
    console.log(`target      cases   cases/s  seeds/s  ratio accepted  refused  unnamed  crash  hang  blow-up\n${rows.join('\n')}`);
    if (kept.length > 0) await archiveCheck(work, archiveIn, kept.length);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The mutated files beside a good series: the importer keeps the archive sound and the good series whole. */
async function archiveCheck(work: string, archiveIn: string, count: number): Promise<void> {
  const good = writePhantomSeries(join(work, 'good-src'), { seed: 'fuzz-archive-good', columns: 32, rows: 32, slices: 10 });
  cpSync(join(work, 'good-src'), join(archiveIn, 'a_good'), { recursive: true });
  const db = openDatabase(join(work, 'archive.sqlite'));
  const t0 = performance.now();
  const r = await importPaths(db, [archiveIn]);
  const integrity = db.pragma('integrity_check', { simple: true });
  const fk = db.pragma('foreign_key_check') as unknown[];
  const v = await loadVolume(db, good.seriesUid);
  let bad = 0;
  const [nx, ny, nz] = v.dims;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) if (v.data[i + nx * (j + ny * k)] !== good.huAt(voxelToPatient(v, [i, j, k]))) bad++;
  db.close();
  console.log(`archive: ${count} mutated files + good series imported in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${r.skipped.length} skipped, ${r.series.length} series; integrity_check ${String(integrity)}, foreign keys ${fk.length === 0 ? 'ok' : `${fk.length} violations`}; good series ${bad === 0 ? 'intact voxel for voxel' : `${bad} voxels differ`}`);
}
