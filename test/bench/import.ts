/**
 * `npm run bench -- import [FOLDER]`: import-and-assemble time (importPaths into a fresh database,
 * then loadVolume of every series, in this process) for ../shared/data/4dlung (or FOLDER), beside
 * dcm2niix converting the same folder (a separate process writing uncompressed NIfTI), as a ratio.
 * Each side runs once to warm the file cache, then `REPS` times; the median is reported.
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

async function ours(folder: string): Promise<{ ms: number; voxels: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'delineate-bench-'));
  try {
    const t0 = performance.now();
    const db = openDatabase(join(dir, 'a.db'));
    const r = await importPaths(db, [folder]);
    let voxels = 0;
    for (const s of r.series) voxels += (await loadVolume(db, s.seriesUid)).data.length;
    const ms = performance.now() - t0;
    db.close();
    return { ms, voxels };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function dcm2niix(folder: string): number {
  const dir = mkdtempSync(join(tmpdir(), 'delineate-bench-d2n-'));
  try {
    const t0 = performance.now();
    const r = spawnSync('dcm2niix', ['-z', 'n', '-b', 'n', '-o', dir, folder], { encoding: 'utf8' });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`dcm2niix failed: ${r.stderr}`);
    return ms;
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
  const a: number[] = [];
  const b: number[] = [];
  let voxels = 0;
  for (let i = 0; i < REPS; i++) {
    const r = await ours(folder);
    a.push(r.ms);
    voxels = r.voxels;
    if (hasD2n) b.push(dcm2niix(folder));
  }
  const oursMs = median(a);
  process.stdout.write(`import: ${folder}\n`);
  process.stdout.write(`  delineate import + assemble: ${oursMs.toFixed(0)} ms (median of ${REPS}; ${(voxels / 1e6).toFixed(1)} M voxels)\n`);
  if (hasD2n) {
    const refMs = median(b);
    process.stdout.write(`  dcm2niix (baseline):         ${refMs.toFixed(0)} ms (median of ${REPS})\n`);
    process.stdout.write(`  ratio delineate / dcm2niix:  ${(oursMs / refMs).toFixed(2)} (target <= 1.0)\n`);
  } else {
    process.stdout.write('  dcm2niix not installed: no baseline, no ratio\n');
  }
}
