/**
 * `npm run bench -- batch [--series N] [--models DIR] [--repeat R]`: series per hour and peak RSS of a batch run
 * (`delineate run`: persistent queue, worker thread, one transaction per series) over N synthetic
 * phantom series (default 5), against a baseline measured in the same invocation: the same
 * pipeline called series after series on one thread with nothing stored. The ratio is the cost of
 * the queue, the worker and the commits. Each measurement runs in its own child process, so each
 * peak RSS is its own (process.resourceUsage().maxRSS, worker threads included).
 *
 * With --repeat R (default 1) both are measured R times, alternating, and the fastest of each is
 * reported (peak RSS: the largest), which damps the noise of a shared machine.
 *
 * Backends: whatever a run would pick (backends.ts): with --models DIR (or DELINEATE_MODELS) holding
 * verified MedLAM/MedSAM models, those; otherwise the weight-free atlas backend.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { REPO_ROOT } from '../helpers/data.js';
import { makeBatchArchive, TEMPLATE_SET } from '../integration/jobs/archive.js';

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

interface Measure {
  ms: number;
  maxRssKb: number;
  backends: string;
}

function measure(mode: 'direct' | 'cli', dir: string, db: string, series: string[], env: NodeJS.ProcessEnv): Measure {
  const out = join(dir, `${mode}.json`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test/bench/_batch-child.ts'), mode, out, db, TEMPLATE_SET, ...series], {
    cwd: REPO_ROOT,
    env,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`batch bench (${mode}) failed:\n${r.stderr}`);
  return JSON.parse(readFileSync(out, 'utf8')) as Measure;
}

export async function bench(args: string[]): Promise<void> {
  const n = Number(arg(args, 'series') ?? 5);
  const dir = mkdtempSync(join(tmpdir(), 'delineate-bench-batch-'));
  try {
    const home = join(dir, 'home');
    mkdirSync(home);
    const models = arg(args, 'models') ?? process.env.DELINEATE_MODELS ?? join(dir, 'no-models');
    const env = { ...process.env, DELINEATE_HOME: home, DELINEATE_MODELS: models };
    process.stdout.write(`batch: ${n} phantom series (40x40x20), template set ${TEMPLATE_SET} (3 structures)\n`);
    const archive = await makeBatchArchive(join(dir, 'archive'), { count: n });
    const repeat = Math.max(1, Number(arg(args, 'repeat') ?? 1));
    const pick = (ms: Measure[]): Measure => ({
      ms: Math.min(...ms.map((m) => m.ms)),
      maxRssKb: Math.max(...ms.map((m) => m.maxRssKb)),
      backends: ms[0]!.backends,
    });
    const bases: Measure[] = [];
    const runs: Measure[] = [];
    for (let r = 0; r < repeat; r++) {
      for (const [mode, list] of [['direct', bases], ['cli', runs]] as const) {
        const db = join(dir, `${mode}-${r}.sqlite`);
        copyFileSync(archive.dbFile, db);
        // No warm caches (embeddings, support features) from the previous measurement.
        rmSync(join(home, 'cache'), { recursive: true, force: true });
        list.push(measure(mode, dir, db, archive.series, env));
      }
    }
    const base = pick(bases);
    const run = pick(runs);
    const perHour = (m: Measure): number => (n * 3_600_000) / m.ms;
    process.stdout.write(`backends: ${base.backends}${repeat > 1 ? ` (fastest of ${repeat} each)` : ''}\n`);
    process.stdout.write(
      `baseline (pipeline on one thread, nothing stored): ${perHour(base).toFixed(0)} series/h (${(base.ms / 1000).toFixed(1)} s), peak RSS ${(base.maxRssKb / 1024).toFixed(0)} MB\n`,
    );
    process.stdout.write(
      `batch (delineate run, 1 worker, committed):        ${perHour(run).toFixed(0)} series/h (${(run.ms / 1000).toFixed(1)} s), peak RSS ${(run.maxRssKb / 1024).toFixed(0)} MB\n`,
    );
    process.stdout.write(`ratio batch/baseline: throughput ${(perHour(run) / perHour(base)).toFixed(2)}x, peak RSS ${(run.maxRssKb / base.maxRssKb).toFixed(2)}x\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
