/**
 * Kills a batch process with SIGKILL at random instants, one kill per attempt, then reruns the same
 * command until it finishes. The instants come from a seeded generator (the seed is printed by the
 * tests) so a failure can be replayed.
 */
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';

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
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
  for (let a = 0; a < o.attempts; a++) {
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
 * A kill window that keeps every attempt's kill inside real work: process start-up plus at most
 * `itemsAhead` items' time, both estimated from the uninterrupted reference run. A window as long
 * as the whole run would let the run finish in a few attempts and the rest would exit before their
 * kill; this one makes each attempt commit a fraction of an item on average, so the 20 kills land
 * before, during and after item commits all along the run.
 */
export function killWindow(refDb: string, db: string, uninterruptedMs: number, itemsAhead = 1.2): { window(): number; left(): number } {
  const ref = new Database(refDb, { readonly: true });
  const rows = ref.prepare(`SELECT duration_ms AS d FROM run_items`).all() as { d: number | null }[];
  ref.close();
  const perItem = rows.reduce((a, r) => a + (r.d ?? 0), 0) / Math.max(1, rows.length);
  const startup = Math.max(300, uninterruptedMs - perItem * rows.length);
  const left = (): number => {
    const conn = new Database(db, { readonly: true });
    try {
      // Before the first attempt the run does not exist yet: every series is left.
      const has = conn.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name = 'run_items'`).get() as { n: number };
      if (has.n === 0) return rows.length;
      const runs = (conn.prepare(`SELECT count(*) AS n FROM runs`).get() as { n: number }).n;
      if (runs === 0) return rows.length;
      return (conn.prepare(`SELECT count(*) AS n FROM run_items WHERE status IN ('pending', 'running')`).get() as { n: number }).n;
    } finally {
      conn.close();
    }
  };
  return { window: () => startup + perItem * Math.min(left(), itemsAhead), left };
}
