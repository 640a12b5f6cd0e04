/**
 * `npm run bench -- import [FOLDER] [--scale 100,300,1000] [--no-scale]`: import-and-assemble time
 * (importPaths into a fresh database, then loadVolume of every series, in this process) beside
 * dcm2niix converting the same folder (a separate process writing uncompressed NIfTI), as a ratio.
 *
 * Series: FOLDER, or by default ../shared/data/4dlung (99 uncompressed slices) and
 * ../shared/data/totalseg/example_ct_dicom (20 JPEG 2000 slices). Each side runs once to warm the
 * file cache (ours: that first run also starts the decode workers; its time is printed), then `REPS`
 * times alternating; medians are reported as wall time (what a user waits) and CPU time (user +
 * system, all threads; steadier on a busy machine). The load average is printed with them: on a
 * shared machine, compare ratios, not times.
 *
 * Scaling: a synthetic series of up to 1,000 slices built from the 4D-Lung slices (cycled, with new
 * positions 3 mm apart, SOP Instance UIDs and InstanceNumbers) in a temporary folder, imported at
 * each size in a child process of its own (_import-child.ts) for its peak RSS; time per slice
 * beside dcm2niix's on the same files.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { importPaths } from '../../electron/engine/dicom/import.js';
import { openDatabase } from '../../electron/engine/store/db.js';
import { loadVolume } from '../../electron/engine/volume/load.js';
import { REPO_ROOT, dataDir } from '../helpers/data.js';
import { dcmjsData } from '../fixtures/phantom/dcmjs.js';

const REPS = 5;
const SCALE_REPS = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Timing {
  ms: number;
  cpuMs: number;
}

const out = (s: string): boolean => process.stdout.write(`${s}\n`);
const load = (): string => loadavg().map((x) => x.toFixed(1)).join(' ');

/**
 * Wall and CPU time of importPaths + loadVolume of every series into an archive opened (and
 * migrated) just before; `withOpenMs` adds opening the new archive and closing it, which the
 * figures before this split included.
 */
async function ours(folder: string): Promise<Timing & { withOpenMs: number; voxels: number; dtype: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'delineate-bench-'));
  try {
    const t00 = performance.now();
    const db = openDatabase(join(dir, 'a.db'));
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await importPaths(db, [folder]);
    let voxels = 0;
    let dtype = '';
    for (const s of r.series) {
      const v = await loadVolume(db, s.seriesUid);
      voxels += v.data.length;
      dtype = v.data.constructor.name;
    }
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    db.close();
    return { ms, cpuMs: (c.user + c.system) / 1000, withOpenMs: performance.now() - t00, voxels, dtype };
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

async function compare(folder: string, hasD2n: boolean): Promise<void> {
  const first = await ours(folder);
  if (hasD2n) dcm2niix(folder);
  const a: (Timing & { withOpenMs: number })[] = [];
  const b: Timing[] = [];
  let voxels = 0;
  let dtype = '';
  const load0 = load();
  for (let i = 0; i < REPS; i++) {
    const r = await ours(folder);
    a.push(r);
    voxels = r.voxels;
    dtype = r.dtype;
    if (hasD2n) b.push(dcm2niix(folder));
  }
  const wall = median(a.map((x) => x.ms));
  const cpu = median(a.map((x) => x.cpuMs));
  out(`import: ${folder} (${(voxels / 1e6).toFixed(1)} M voxels, ${dtype}; medians of ${REPS}; load average ${load0} -> ${load()})`);
  const withOpen = median(a.map((x) => x.withOpenMs));
  out(`  delineate import + assemble: wall ${wall.toFixed(0)} ms, cpu ${cpu.toFixed(0)} ms; with opening and closing a new archive: wall ${withOpen.toFixed(0)} ms (first run in this process: ${first.withOpenMs.toFixed(0)} ms)`);
  if (hasD2n) {
    const rw = median(b.map((x) => x.ms));
    const rc = median(b.map((x) => x.cpuMs));
    out(`  dcm2niix (baseline):         wall ${rw.toFixed(0)} ms, cpu ${rc.toFixed(0)} ms`);
    out(`  ratio delineate / dcm2niix:  wall ${(wall / rw).toFixed(2)}, cpu ${(cpu / rc).toFixed(2)}; with a new archive: wall ${(withOpen / rw).toFixed(2)} (target <= 1.0)`);
  } else {
    out('  dcm2niix not installed: no baseline, no ratio');
  }
}

/**
 * `count` slices cycled from the 4D-Lung CT, each with a new position (3 mm steps along z), SOP
 * Instance UID and InstanceNumber, in one new series, written through dcmjs.
 */
function synthesise(src: string, dst: string, count: number): void {
  const files = readdirSync(src).filter((f) => f.endsWith('.dcm')).sort().map((f) => join(src, f));
  const msgs = files.map((f) => {
    const b = readFileSync(f);
    return dcmjsData.DicomMessage.readFile(b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer) as unknown as Msg;
  });
  const pos = (m: Msg): number[] => (m.dict['00200032']!.Value as (string | number)[]).map(Number);
  msgs.sort((p, q) => pos(p)[2]! - pos(q)[2]!);
  const [x0, y0, z0] = pos(msgs[0]!);
  const seriesUid = dcmjsData.DicomMetaDictionary.uid();
  // dcmjs warns once per file about the implicit-VR pixel data's VR ("ox"; it writes OW, as it
  // should) through a logger bound to the console at load: silence stderr while writing.
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    writeSlices(msgs, dst, count, { x0: x0!, y0: y0!, z0: z0!, seriesUid });
  } finally {
    process.stderr.write = write;
  }
}

type Msg = { dict: Record<string, { Value: unknown[] }>; meta: Record<string, { Value: unknown[] }>; write(): ArrayBuffer };

function writeSlices(msgs: Msg[], dst: string, count: number, at: { x0: number; y0: number; z0: number; seriesUid: string }): void {
  const { x0, y0, z0, seriesUid } = at;
  for (let s = 0; s < count; s++) {
    const m = msgs[s % msgs.length]!;
    const sop = dcmjsData.DicomMetaDictionary.uid();
    m.dict['00200032'] = { ...m.dict['00200032']!, Value: [x0, y0, Number((z0 + 3 * s).toFixed(2))] };
    m.dict['00080018'] = { ...m.dict['00080018']!, Value: [sop] };
    m.meta['00020003'] = { ...m.meta['00020003']!, Value: [sop] };
    m.dict['0020000E'] = { ...m.dict['0020000E']!, Value: [seriesUid] };
    m.dict['00200013'] = { ...m.dict['00200013']!, Value: [s + 1] };
    writeFileSync(join(dst, `s${String(s).padStart(4, '0')}.dcm`), Buffer.from(m.write()));
  }
}

function child(warmup: string, folder: string): Timing & { slices: number; dtype: string; maxRssMb: number } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test/bench/_import-child.ts'), warmup, folder], { encoding: 'utf8', cwd: REPO_ROOT });
  if (r.status !== 0) throw new Error(`import child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Timing & { slices: number; dtype: string; maxRssMb: number };
}

async function scaling(sizes: number[], hasD2n: boolean): Promise<void> {
  const src = join(dataDir(), '4dlung', 'ct');
  if (!existsSync(src)) return void out(`scaling: ${src} is absent; nothing to measure`);
  const root = mkdtempSync(join(tmpdir(), 'delineate-bench-scale-'));
  try {
    const max = Math.max(...sizes);
    const all = join(root, 'all');
    mkdirSync(all);
    const t0 = performance.now();
    synthesise(src, all, max);
    const names = readdirSync(all).sort();
    out(`scaling: synthetic series of ${max} slices from 4D-Lung written in ${((performance.now() - t0) / 1000).toFixed(1)} s; each size in its own process (median of ${SCALE_REPS}), after a warm-up import of 4D-Lung; load average ${load()}`);
    out('  slices | delineate ms/slice (cpu) | dcm2niix ms/slice (cpu) | wall ratio | cpu ratio | peak RSS | volume');
    for (const n of sizes) {
      const dir = join(root, `n${n}`);
      mkdirSync(dir);
      for (const f of names.slice(0, n)) linkSync(join(all, f), join(dir, f));
      if (hasD2n) dcm2niix(dir);
      const a: ReturnType<typeof child>[] = [];
      const b: Timing[] = [];
      for (let i = 0; i < SCALE_REPS; i++) {
        a.push(child(src, dir));
        if (hasD2n) b.push(dcm2niix(dir));
      }
      const slices = a[0]!.slices;
      if (slices !== n) throw new Error(`synthetic series of ${n} slices imported as ${slices}`);
      const w = median(a.map((x) => x.ms)) / n;
      const c = median(a.map((x) => x.cpuMs)) / n;
      const rss = Math.max(...a.map((x) => x.maxRssMb));
      const dw = hasD2n ? median(b.map((x) => x.ms)) / n : NaN;
      const dc = hasD2n ? median(b.map((x) => x.cpuMs)) / n : NaN;
      out(
        `  ${String(n).padStart(6)} | ${w.toFixed(2).padStart(8)} (${c.toFixed(2)})`.padEnd(36) +
          ` | ${hasD2n ? `${dw.toFixed(2)} (${dc.toFixed(2)})`.padStart(15) : 'n/a'.padStart(15)}        ` +
          ` | ${hasD2n ? (w / dw).toFixed(2) : 'n/a'}      | ${hasD2n ? (c / dc).toFixed(2) : 'n/a'}      | ${rss} MB   | ${a[0]!.dtype}`,
      );
    }
    out(`  (load average at the end: ${load()})`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export async function bench(args: string[]): Promise<void> {
  const flagAt = args.indexOf('--scale');
  const sizes = flagAt >= 0 ? args[flagAt + 1]!.split(',').map(Number) : [100, 300, 1000];
  const positional = args.filter((a, i) => !a.startsWith('--') && (flagAt < 0 || i !== flagAt + 1));
  const folders = positional.length > 0 ? positional : [join(dataDir(), '4dlung'), join(dataDir(), 'totalseg', 'example_ct_dicom')];
  const hasD2n = spawnSync('dcm2niix', ['-v']).error === undefined;
  for (const folder of folders) {
    if (!existsSync(folder)) out(`import: ${folder} is absent; nothing to measure`);
    else await compare(folder, hasD2n);
  }
  if (!args.includes('--no-scale') && positional.length === 0) await scaling(sizes, hasD2n);
}
