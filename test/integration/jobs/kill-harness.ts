/**
 * Kills a batch process with SIGKILL at random instants, one kill per attempt, then reruns the same
 * command until it finishes. The instants come from a seeded generator (the seed is printed by the
 * tests) so a failure can be replayed.
 */
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { prng } from '../../../electron/engine/prng.js';

export interface KillLoopOptions {
  args: string[];
  /** Number of attempts, each killed at a random instant (unless it finishes first). */
  attempts: number;
  /**
   * Kill instants are uniform in [0, maxDelayMs) after spawning; a function is asked before each
   * attempt (so the window can shrink with the work left and every attempt is killed mid-run).
   */
  maxDelayMs: number | (() => number);
  seed: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Called after the last killed attempt, before the rerun that must finish. */
  beforeRerun?(): void;
}

export interface KillLoopResult {
  kills: number;
  /** Attempts that finished before their kill instant. */
  finishedBeforeKill: number;
  /** stdout of the run that finished. */
  stdout: string;
  reruns: number;
}

/** mulberry32: a tiny seeded generator, enough to spread kill instants reproducibly. */
export const seeded = prng;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  killed: boolean;
}

function runOnce(o: KillLoopOptions, killAfterMs: number | undefined): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, o.args, { env: o.env ?? process.env, cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer =
      killAfterMs === undefined
        ? undefined
        : setTimeout(() => {
            killed = child.kill('SIGKILL');
          }, killAfterMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, killed: killed && signal === 'SIGKILL' });
    });
  });
}

export async function killLoop(o: KillLoopOptions): Promise<KillLoopResult> {
  const rnd = seeded(o.seed);
  let kills = 0;
  let finishedBeforeKill = 0;
  // Attempts that finish before their kill instant do not count: keep going until `attempts` kills
  // (bounded, in case the machine is so fast that every attempt finishes).
  for (let a = 0; kills < o.attempts && a < o.attempts * 3; a++) {
    const max = typeof o.maxDelayMs === 'number' ? o.maxDelayMs : o.maxDelayMs();
    const at = rnd() * max;
    const r = await runOnce(o, at);
    if (r.killed) {
      kills++;
      continue;
    }
    if (r.code !== 0) throw new Error(`attempt ${a + 1} exited with ${r.code ?? r.signal} before its kill at ${Math.round(at)} ms:\n${r.stderr}`);
    finishedBeforeKill++;
  }
  o.beforeRerun?.();
  // The rerun after the last kill must finish the run.
  const r = await runOnce(o, undefined);
  if (r.code !== 0) throw new Error(`the rerun after the kills exited with ${r.code ?? r.signal}:\n${r.stderr}`);
  return { kills, finishedBeforeKill, stdout: r.stdout, reruns: 1 };
}

/**
 * A kill window that keeps every attempt's kill inside real work: the process's start-up and exit
 * (`startupMs`, timed on a run with nothing left to do) plus at most `itemsAhead` items' time
 * (`perItemMs`, from the uninterrupted run). A window as long as the whole run would let the run
 * finish in a few attempts; this one makes each attempt commit about a fraction of an item, so the
 * kills land before, during and after item commits all along the run.
 */
export function killWindow(db: string, startupMs: number, perItemMs: number, itemsAhead = 2.5): { window(): number; left(): number } {
  const left = (): number => {
    const conn = new Database(db, { readonly: true });
    try {
      // Before the first attempt the run does not exist yet: every item is left.
      const runs = conn.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name = 'runs'`).get() as { n: number };
      if (runs.n === 0 || (conn.prepare(`SELECT count(*) AS n FROM runs`).get() as { n: number }).n === 0) return Infinity;
      return (conn.prepare(`SELECT count(*) AS n FROM run_items WHERE status IN ('pending', 'running')`).get() as { n: number }).n;
    } finally {
      conn.close();
    }
  };
  return { window: () => startupMs + perItemMs * Math.min(left(), itemsAhead), left };
}

/** Runs a command to completion and returns its wall time (for the start-up estimate). */
export async function timeRun(o: Pick<KillLoopOptions, 'args' | 'env' | 'cwd'>): Promise<{ ms: number; stdout: string; stderr: string }> {
  const t0 = performance.now();
  const r = await runOnce({ ...o, attempts: 0, maxDelayMs: 0, seed: 0 }, undefined);
  if (r.code !== 0) throw new Error(`${o.args.join(' ')} exited with ${r.code ?? r.signal}:\n${r.stderr}`);
  return { ms: performance.now() - t0, stdout: r.stdout, stderr: r.stderr };
}
