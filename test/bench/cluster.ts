/**
 * `npm run bench -- cluster [--series N] [--openkbp]`: what a cluster campaign costs beyond the
 * computing itself, and what two shards at once give on this machine. All in one invocation, each
 * step a `delineate` child process as an operator or a Slurm task runs it:
 *
 * - baseline: `delineate run` of the series on a copy of the archive (local, one worker);
 * - overhead: `cluster export` (copy + sha256 of every file, inputs.sqlite) + `cluster import`
 *   (checksums, merge), as a ratio of the baseline run time (target <= 5%);
 * - throughput: a 2-shard package whose shards run one after the other (1 concurrent shard), and a
 *   second package whose 2 shards run at the same time (2 concurrent), in series per hour, with
 *   their ratio to the baseline.
 *
 * Default data: N synthetic phantom series (40x40x20, default 4). With --openkbp: OpenKBP CT from
 * ../shared/data (pt_4 as the template, derived from its labels, 3 structures; pt_13, pt_17,
 * pt_31 processed), the size a workstation really sees. Backend: the weight-free atlas.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { dataDir, REPO_ROOT } from '../helpers/data.js';
import { makeBatchArchive, TEMPLATE_SET } from '../integration/jobs/archive.js';
import { openDatabase } from '../../electron/engine/store/db.js';
import { dumpResults } from '../unit/jobs/helpers.js';

const BIN = join(REPO_ROOT, 'bin', 'delineate.js');

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

function cli(args: string[], env: NodeJS.ProcessEnv): { ms: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args, '--json'], { cwd: REPO_ROOT, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`delineate ${args.join(' ')} failed:\n${r.stderr}`);
  return { ms: performance.now() - t0, stdout: r.stdout };
}

function cliAsync(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args, '--json'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`delineate ${args.join(' ')} failed:\n${err}`))));
  });
}

async function openkbpArchive(dir: string, env: NodeJS.ProcessEnv): Promise<{ db: string; set: string; series: string[] }> {
  const src = join(dataDir(), 'openkbp');
  if (!existsSync(src)) throw new Error(`--openkbp needs ${src}`);
  const db = join(dir, 'archive.sqlite');
  const uidOf = (pt: number): string => {
    const out = JSON.parse(cli(['import', join(src, `pt_${pt}_ct.nii.gz`), '--db', db], env).stdout) as { series: { seriesUid: string }[] };
    return out.series[0]!.seriesUid;
  };
  const template = uidOf(4);
  const series = [13, 17, 31].map(uidOf);
  cli(['template', 'derive', '--set', 'hn', '--series', template, '--labels', join(src, 'pt_4_oar_labels.nii.gz'), '--names', join(src, 'oar_names.json'), '--structures', 'Brainstem,SpinalCord,Mandible', '--db', db], env);
  return Promise.resolve({ db, set: 'hn', series });
}

export async function bench(args: string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'delineate-bench-cluster-'));
  try {
    const home = join(dir, 'home');
    mkdirSync(home);
    const env = { ...process.env, DELINEATE_HOME: home, DELINEATE_MODELS: join(dir, 'no-models') };
    let archive: { db: string; set: string; series: string[] };
    if (args.includes('--openkbp')) {
      process.stdout.write('cluster: OpenKBP pt_13, pt_17, pt_31 (template pt_4: Brainstem, SpinalCord, Mandible), atlas backend\n');
      archive = await openkbpArchive(dir, env);
    } else {
      const n = Number(arg(args, 'series') ?? 4);
      process.stdout.write(`cluster: ${n} phantom series (40x40x20), template set ${TEMPLATE_SET} (3 structures), atlas backend\n`);
      const a = await makeBatchArchive(join(dir, 'archive'), { count: n });
      archive = { db: a.dbFile, set: TEMPLATE_SET, series: a.series };
    }
    const n = archive.series.length;
    const local = join(dir, 'local.sqlite');
    const imported = join(dir, 'imported.sqlite');
    copyFileSync(archive.db, local);
    copyFileSync(archive.db, imported);
    const sel = ['--set', archive.set, '--series', ...archive.series];

    // What every command pays before doing anything (Node + tsx + module loading), measured alike.
    const startup = Math.min(...[0, 1, 2].map(() => cli(['series', 'list', '--db', local], env).ms));
    const run = cli(['run', ...sel, '--backend', 'atlas', '--db', local], env).ms;
    const pkgA = join(dir, 'pkgA');
    const exp = cli(['cluster', 'export', ...sel, '--to', pkgA, '--shards', '2', '--backend', 'atlas', '--db', archive.db], env).ms;
    const w0 = cli(['cluster', 'work', '--package', pkgA, '--shard', '0'], env).ms;
    const w1 = cli(['cluster', 'work', '--package', pkgA, '--shard', '1'], env).ms;
    const imp = cli(['cluster', 'import', '--package', pkgA, '--db', imported], env).ms;
    const pkgB = join(dir, 'pkgB');
    cli(['cluster', 'export', ...sel, '--to', pkgB, '--shards', '2', '--backend', 'atlas', '--db', archive.db], env);
    const t0 = performance.now();
    await Promise.all([0, 1].map((k) => cliAsync(['cluster', 'work', '--package', pkgB, '--shard', String(k)], env)));
    const both = performance.now() - t0;

    const same = (f: string): string => {
      const db = openDatabase(f, { readonly: true });
      try {
        return JSON.stringify(dumpResults(db));
      } finally {
        db.close();
      }
    };
    const perHour = (ms: number): string => ((n * 3_600_000) / ms).toFixed(0);
    const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
    process.stdout.write(
      [
        `baseline  delineate run (local, 1 worker):       ${s(run)}  ${perHour(run)} series/h`,
        `overhead  cluster export ${s(exp)} + import ${s(imp)} = ${s(exp + imp)}: ${((100 * (exp + imp)) / run).toFixed(1)}% of the run (target <= 5%)`,
        `          without the two commands' start-up (${s(startup)} each, \`series list\`): ${((100 * Math.max(0, exp + imp - 2 * startup)) / run).toFixed(1)}% of the run`,
        `1 shard   shards one after the other:          ${s(w0 + w1)}  ${perHour(w0 + w1)} series/h  (x${(run / (w0 + w1)).toFixed(2)} vs baseline)`,
        `2 shards  both at once:                         ${s(both)}  ${perHour(both)} series/h  (x${(run / both).toFixed(2)} vs baseline, x${((w0 + w1) / both).toFixed(2)} vs 1 shard)`,
        `results   imported == local run: ${same(imported) === same(local)}`,
        `(each figure includes the CLI's start-up; the machine's other load shows in every line alike)`,
        '',
      ].join('\n'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
