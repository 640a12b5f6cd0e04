/**
 * `npm run bench -- import [FOLDER]`: import-and-assemble time (importPaths into a fresh database,
 * then loadVolume of every series, in this process) for ../shared/data/4dlung (or FOLDER), beside
 * dcm2niix converting the same folder (a separate process writing uncompressed NIfTI), as a ratio.
 * Each side runs once to warm the file cache, then `REPS` times; the median is reported, as wall
 * time (what a user waits) and CPU time (user + system; steadier on a busy machine).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importPaths } from '../../electron/engine/dicom/import.js';
import { openDatabase } from '../../electron/engine/store/db.js';
import { loadVolume } from '../../electron/engine/volume/load.js';
import { dataDir } from '../helpers/data.js';

const REPS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Timing {
  ms: number;
  cpuMs: number;
}

async function ours(folder: string): Promise<Timing & { voxels: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'delineate-bench-'));
  try {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const db = openDatabase(join(dir, 'a.db'));
    const r = await importPaths(db, [folder]);
    let voxels = 0;
    for (const s of r.series) voxels += (await loadVolume(db, s.seriesUid)).data.length;
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    db.close();
    return { ms, cpuMs: (c.user + c.system) / 1000, voxels };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** dcm2niix wall time, and its CPU time from bash's `times` (children's user and system). */
function dcm2niix(folder: string): Timing {
  const dir = mkdtempSync(join(tmpdir(), 'delineate-bench-d2n-'));
  try {
    const t0 = performance.now();
    const r = spawnSync('bash', ['-c', 'dcm2niix -z n -b n -o "$1" "$2" >/dev/null && times', 'bench', dir, folder], { encoding: 'utf8' });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`dcm2niix failed: ${r.stderr}`);
    const lines = r.stdout.trim().split('\n');
    const secs = (lines[lines.length - 1] ?? '').match(/(\d+)m([\d.]+)s/g) ?? [];
    const cpuMs = secs.reduce((a, t) => {
      const m = /(\d+)m([\d.]+)s/.exec(t)!;
      return a + (Number(m[1]) * 60 + Number(m[2])) * 1000;
    }, 0);
    return { ms, cpuMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function bench(args: string[]): Promise<void> {
  const folder = args[0] ?? join(dataDir(), '4dlung');
  if (!existsSync(folder)) {
    process.stdout.write(`import: ${folder} is absent; nothing to measure\n`);
    return;
  }
  const hasD2n = spawnSync('dcm2niix', ['-v']).error === undefined;
  await ours(folder);
  if (hasD2n) dcm2niix(folder);
  const a: Timing[] = [];
  const b: Timing[] = [];
  let voxels = 0;
  for (let i = 0; i < REPS; i++) {
    const r = await ours(folder);
    a.push(r);
    voxels = r.voxels;
    if (hasD2n) b.push(dcm2niix(folder));
  }
  const wall = median(a.map((x) => x.ms));
  const cpu = median(a.map((x) => x.cpuMs));
  const out = (s: string): boolean => process.stdout.write(`${s}\n`);
  out(`import: ${folder} (${(voxels / 1e6).toFixed(1)} M voxels; medians of ${REPS})`);
  out(`  delineate import + assemble: wall ${wall.toFixed(0)} ms, cpu ${cpu.toFixed(0)} ms`);
  if (hasD2n) {
    const rw = median(b.map((x) => x.ms));
    const rc = median(b.map((x) => x.cpuMs));
    out(`  dcm2niix (baseline):         wall ${rw.toFixed(0)} ms, cpu ${rc.toFixed(0)} ms`);
    out(`  ratio delineate / dcm2niix:  wall ${(wall / rw).toFixed(2)}, cpu ${(cpu / rc).toFixed(2)} (target <= 1.0)`);
  } else {
    out('  dcm2niix not installed: no baseline, no ratio');
  }
}
