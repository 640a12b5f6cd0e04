/**
 * Runs fuzz cases in a worker thread under a time limit (a case running over 10 s is a hang: the
 * worker is terminated and replaced) and a memory limit (V8 heap capped at 1 GB by resourceLimits;
 * the process's resident memory sampled every 20 ms, more than 1 GB above its level before the case
 * is a blow-up). Cases are generated deterministically from (seed, target, index).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../electron/engine/workers.js';
import { bridgeTarget } from './bridge-target.js';
import { pduTarget } from './pdu-target.js';
import { rng, int } from './mutate.js';
import { FILE_TARGETS, type FuzzCase, type Target } from './targets.js';
import type { CaseResult, Outcome } from './worker.js';

export const TARGETS: Target[] = [...FILE_TARGETS, bridgeTarget, pduTarget];
export const HANG_MS = 10_000;
export const MEMORY_LIMIT = 1 << 30;

export interface TargetReport {
  target: string;
  cases: number;
  seconds: number;
  counts: Record<Outcome, number>;
  /** Up to 5 examples per finding outcome (crash, hang, blow-up, unnamed), with the case index to replay. */
  findings: { index: number; outcome: Outcome; detail: string }[];
}


/** A worker loading the engine (and warming a target: a bridge over a real service, an SCP) may take this long under load. */
const STARTUP_MS = 120_000;

class Runner {
  private worker: Promise<Worker> | undefined;
  private exitReason: string | undefined;
  constructor(
    private readonly dir: string,
    private readonly target: string,
  ) {}

  /** A worker that has loaded its modules and warmed the target: the 10 s limit counts from there. */
  private start(): Promise<Worker> {
    this.exitReason = undefined;
    const w = startWorker(import.meta.url, './worker', { workerData: { dir: this.dir, target: this.target }, resourceLimits: { maxOldGenerationSizeMb: 1024 } });
    w.on('error', (e) => (this.exitReason = `${(e as { code?: string }).code ?? e.name}: ${e.message}`));
    w.unref();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fuzz worker for ${this.target} not ready within ${STARTUP_MS / 1000} s`)), STARTUP_MS);
      w.once('message', () => {
        clearTimeout(timer);
        resolve(w);
      });
      w.once('exit', () => {
        clearTimeout(timer);
        reject(new Error(`fuzz worker for ${this.target} died while starting: ${this.exitReason ?? 'exit'}`));
      });
    });
  }

  async run(target: string, c: FuzzCase): Promise<CaseResult> {
    const w = await (this.worker ??= this.start());
    const before = process.memoryUsage.rss();
    let peak = before;
    return new Promise<CaseResult>((resolve) => {
      let done = false;
      const finish = (r: CaseResult, kill: boolean): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearInterval(sampler);
        w.off('message', onMessage);
        w.off('exit', onExit);
        if (kill) {
          void w.terminate();
          this.worker = undefined;
        }
        resolve(r);
      };
      const onMessage = (r: CaseResult): void => finish(peak - before > MEMORY_LIMIT ? { ...r, outcome: 'blow-up', detail: `resident memory grew ${((peak - before) / 2 ** 20).toFixed(0)} MB` } : r, false);
      const onExit = (): void => {
        this.worker = undefined;
        const oom = /OUT_OF_MEMORY|heap/i.test(this.exitReason ?? '');
        finish({ id: 0, outcome: oom ? 'blow-up' : 'crash', detail: `worker died: ${this.exitReason ?? 'exit'}` }, false);
      };
      const timer = setTimeout(() => finish({ id: 0, outcome: 'hang', detail: `no answer within ${HANG_MS / 1000} s` }, true), HANG_MS);
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage.rss());
        if (peak - before > MEMORY_LIMIT) finish({ id: 0, outcome: 'blow-up', detail: `resident memory grew over ${MEMORY_LIMIT / 2 ** 20} MB` }, true);
      }, 20);
      w.on('message', onMessage);
      w.on('exit', onExit);
      w.postMessage({ id: 0, target, c });
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    await w?.then((x) => x.terminate()).catch(() => undefined);
  }
}

/** The case `index` of `target` under `seed`: the same triple always gives the same bytes. */
export function caseFor(target: Target, seeds: Uint8Array[][], seed: number, index: number): FuzzCase {
  const r = rng((seed * 2654435761) ^ (index * 40503) ^ target.name.length);
  return target.mutate(r, seeds[int(r, seeds.length)]!);
}

export async function fuzzTarget(target: Target, opts: { n: number; seed: number; workDir?: string; onCase?(index: number, c: FuzzCase, r: CaseResult): void }): Promise<TargetReport> {
  const work = opts.workDir ?? mkdtempSync(join(tmpdir(), 'delineate-fuzz-'));
  mkdirSync(work, { recursive: true });
  const seeds = target.seeds(join(work, 'seeds'));
  const runner = new Runner(join(work, 'worker'), target.name);
  const counts: Record<Outcome, number> = { accepted: 0, refused: 0, unnamed: 0, crash: 0, hang: 0, 'blow-up': 0 };
  const findings: TargetReport['findings'] = [];
  const t0 = performance.now();
  try {
    for (let i = 0; i < opts.n; i++) {
      const c = caseFor(target, seeds, opts.seed, i);
      const r = await runner.run(target.name, c);
      counts[r.outcome]++;
      if (r.outcome !== 'accepted' && r.outcome !== 'refused' && findings.filter((f) => f.outcome === r.outcome).length < 5) findings.push({ index: i, outcome: r.outcome, detail: r.detail });
      opts.onCase?.(i, c, r);
    }
  } finally {
    await runner.close();
    if (!opts.workDir) rmSync(work, { recursive: true, force: true });
  }
  return { target: target.name, cases: opts.n, seconds: (performance.now() - t0) / 1000, counts, findings };
}
