/**
 * Slurm, reached only through its commands (`sbatch`, `squeue`, `sacct`) as child processes: no
 * library, so whatever Slurm the site runs, with its SLURM_CONF and environment, is the one used.
 *
 * `submit` writes one array job over the shards that still need work (no valid result.json and not
 * queued or running under an earlier submission of this package), each task running
 * `delineate cluster work --package DIR` with its shard taken from SLURM_ARRAY_TASK_ID, its output
 * appended to logs/shard-<k>.log. `status` joins the package (result.json, work.sqlite counts) with
 * squeue and, where accounting is enabled, sacct.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { writeFileAtomic } from '../fs/atomic.js';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DelineateError, InputError } from '../errors.js';
import { openDatabase } from '../store/db.js';
import { logPath, readManifest, readShardResult, workDbPath, type PackageManifest } from './package.js';
import { shardProblem } from './merge.js';

const run = promisify(execFile);

export type ShardState = 'pending' | 'running' | 'done' | 'failed';

export interface ShardStatus {
  index: number;
  state: ShardState;
  series: number;
  done: number;
  failed: number;
  /** The last lines of the shard's log, for failed shards. */
  log?: string;
}

export interface PackageStatus {
  state: ShardState;
  shards: ShardStatus[];
}

export interface SubmitOptions {
  partition?: string;
  cpusPerTask?: number;
  mem?: string;
  time?: string;
  /** Worker threads per task (default: the task's CPUs, at most 2: one ONNX session set already uses several cores). */
  workers?: number;
  /** Models folder as the nodes see it. */
  modelsDir?: string;
  /** Also resubmit finished shards with failed series, and run those series again. */
  retryFailed?: boolean;
}

export interface Submission {
  jobId: string;
  shards: number[];
  script: string;
  at: string;
}

function jobName(m: PackageManifest): string {
  return `delineate-${m.id.slice(0, 8)}`;
}

function submissionsFile(dir: string): string {
  return join(dir, 'slurm', 'submissions.json');
}

export function readSubmissions(dir: string): Submission[] {
  const f = submissionsFile(dir);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as Submission[]) : [];
}

async function slurm(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { env: process.env, maxBuffer: 16 << 20 });
    return stdout;
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new DelineateError('unsupported', `${cmd} was not found on PATH: run this on a Slurm login node`, {});
    throw new DelineateError('internal', `${cmd} ${args.join(' ')} failed: ${(err.stderr ?? err.message).trim()}`, {});
  }
}

/** squeue's view of this package's tasks: shard -> PENDING, RUNNING, ... (only tasks still known). */
async function queued(m: PackageManifest): Promise<Map<number, string>> {
  const out = await slurm('squeue', ['-h', '-r', '--name', jobName(m), '-o', '%i|%T']);
  const states = new Map<number, string>();
  for (const line of out.split('\n')) {
    const [id, state] = line.trim().split('|');
    const k = /_(\d+)$/.exec(id ?? '')?.[1];
    if (k !== undefined && state) states.set(Number(k), state);
  }
  return states;
}

/** sacct's final states of the tasks of the given jobs, when accounting is enabled (else empty). */
async function accounted(jobIds: string[]): Promise<Map<number, string>> {
  const states = new Map<number, string>();
  if (jobIds.length === 0) return states;
  let out: string;
  try {
    out = await slurm('sacct', ['-n', '-P', '-X', '-j', jobIds.join(','), '-o', 'JobID,State']);
  } catch {
    // Accounting disabled (AccountingStorageType=none): squeue and the package still tell the state.
    return states;
  }
  // Later submissions come last in the list and win.
  for (const line of out.split('\n')) {
    const [id, state] = line.trim().split('|');
    const k = /_(\d+)$/.exec(id ?? '')?.[1];
    if (k !== undefined && state) states.set(Number(k), state.split(' ')[0]!);
  }
  return states;
}

function tail(file: string, lines = 20): string | undefined {
  if (!existsSync(file)) return undefined;
  const size = statSync(file).size;
  const n = Math.min(size, 16384);
  const buf = Buffer.alloc(n);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, n, size - n);
  } finally {
    closeSync(fd);
  }
  return buf.toString('utf8').split('\n').filter((l) => l.trim() !== '').slice(-lines).join('\n');
}

function workCounts(dir: string, k: number): { done: number; failed: number } {
  const f = workDbPath(dir, k);
  if (!existsSync(f)) return { done: 0, failed: 0 };
  const db = openDatabase(f, { readonly: true });
  try {
    const rows = db.prepare(`SELECT status, count(*) AS n FROM run_items GROUP BY status`).all() as { status: string; n: number }[];
    const n = (s: string): number => rows.find((r) => r.status === s)?.n ?? 0;
    return { done: n('done'), failed: n('failed') };
  } finally {
    db.close();
  }
}

const ACTIVE = new Set(['RUNNING', 'COMPLETING', 'CONFIGURING', 'STAGE_OUT', 'SUSPENDED', 'RESIZING', 'SIGNALING']);

export async function packageStatus(dir: string): Promise<PackageStatus> {
  const { manifest, sha256 } = readManifest(dir);
  const submissions = readSubmissions(dir);
  const submitted = new Set(submissions.flatMap((s) => s.shards));
  const queue = submissions.length > 0 ? await queued(manifest) : new Map<number, string>();
  const final = await accounted(submissions.map((s) => s.jobId));
  const shards = manifest.shards.map((s): ShardStatus => {
    const base = { index: s.index, series: s.series.length };
    const r = readShardResult(dir, s.index);
    if (r && !shardProblem(dir, manifest, sha256, s.index, r)) {
      const st: ShardStatus = { ...base, state: r.failed > 0 ? 'failed' : 'done', done: r.done, failed: r.failed };
      const log = r.failed > 0 ? tail(logPath(dir, s.index)) : undefined;
      return log !== undefined ? { ...st, log } : st;
    }
    const counts = workCounts(dir, s.index);
    const q = queue.get(s.index);
    if (q !== undefined) return { ...base, ...counts, state: ACTIVE.has(q) ? 'running' : 'pending' };
    if (!submitted.has(s.index)) return { ...base, ...counts, state: 'pending' };
    // Submitted, no longer queued, not finished: cancelled, timed out, out of memory, or failed.
    const log = tail(logPath(dir, s.index)) ?? `no log at ${logPath(dir, s.index)}`;
    const why = final.get(s.index);
    return { ...base, ...counts, state: 'failed', log: why ? `[slurm: ${why}]\n${log}` : log };
  });
  const has = (st: ShardState): boolean => shards.some((x) => x.state === st);
  const state: ShardState = has('running') ? 'running' : has('pending') ? 'pending' : has('failed') ? 'failed' : 'done';
  return { state, shards };
}

/** The `delineate` entry point of this installation, run by the same Node binary. */
function delineateCommand(): string[] {
  const bin = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/delineate.js');
  return [process.execPath, bin];
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function sbatchScript(dir: string, m: PackageManifest, shards: number[], o: SubmitOptions): string {
  const abs = resolve(dir);
  const lines = ['#!/bin/bash', `#SBATCH --job-name=${jobName(m)}`, `#SBATCH --array=${shards.join(',')}`, `#SBATCH --output=${join(abs, 'logs', 'shard-%a.log')}`, '#SBATCH --open-mode=append'];
  if (o.partition) lines.push(`#SBATCH --partition=${o.partition}`);
  if (o.cpusPerTask) lines.push(`#SBATCH --cpus-per-task=${o.cpusPerTask}`);
  if (o.mem) lines.push(`#SBATCH --mem=${o.mem}`);
  if (o.time) lines.push(`#SBATCH --time=${o.time}`);
  const workers = o.workers ?? Math.min(2, Math.max(1, o.cpusPerTask ?? 1));
  const cmd = [...delineateCommand(), 'cluster', 'work', '--package', abs, '--shard', '"$SLURM_ARRAY_TASK_ID"', '--workers', String(workers)];
  if (o.modelsDir) cmd.push('--models', o.modelsDir);
  if (o.retryFailed) cmd.push('--retry-failed');
  lines.push(
    '# One shard per array task; `cluster work` resumes from shards/<k>/work.sqlite when a task is re-run.',
    'set -euo pipefail',
    `echo "[$(date -u +%FT%TZ)] shard $SLURM_ARRAY_TASK_ID on $(hostname), job \${SLURM_ARRAY_JOB_ID:-?}_$SLURM_ARRAY_TASK_ID"`,
    `exec ${cmd.map((c) => (c.startsWith('"') ? c : shellQuote(c))).join(' ')}`,
    '',
  );
  return lines.join('\n');
}

export interface SubmitResult {
  jobId: string | null;
  shards: number[];
  script: string | null;
  /** Shards left alone: finished, or still queued/running. */
  skipped: { index: number; reason: string }[];
}

export async function submitPackage(dir: string, o: SubmitOptions = {}): Promise<SubmitResult> {
  const { manifest, sha256 } = readManifest(dir);
  for (const [k, v] of Object.entries({ partition: o.partition, mem: o.mem, time: o.time })) {
    if (v !== undefined && !/^[A-Za-z0-9_:.,-]+$/.test(v)) throw new InputError(`--${k} '${v}' has characters Slurm does not accept`);
  }
  const queue = await queued(manifest);
  const skipped: SubmitResult['skipped'] = [];
  const todo: number[] = [];
  for (const s of manifest.shards) {
    const r = readShardResult(dir, s.index);
    const finished = r && !shardProblem(dir, manifest, sha256, s.index, r);
    if (queue.has(s.index)) skipped.push({ index: s.index, reason: `already ${queue.get(s.index)!.toLowerCase()}` });
    else if (finished && !(o.retryFailed && r.failed > 0)) skipped.push({ index: s.index, reason: r.failed > 0 ? `finished with ${r.failed} failed series (--retry-failed runs them again)` : 'finished' });
    else todo.push(s.index);
  }
  if (todo.length === 0) return { jobId: null, shards: [], script: null, skipped };
  mkdirSync(join(dir, 'logs'), { recursive: true });
  mkdirSync(join(dir, 'slurm'), { recursive: true });
  const n = readSubmissions(dir).length;
  const script = join(resolve(dir), 'slurm', `submit-${n}.sh`);
  writeFileAtomic(script, sbatchScript(dir, manifest, todo, o), { operation: 'cluster submit', mode: 0o700 });
  chmodSync(script, 0o755);
  const out = await slurm('sbatch', ['--parsable', script]);
  const jobId = out.trim().split(';')[0]!;
  if (!/^\d+$/.test(jobId)) throw new DelineateError('internal', `sbatch printed '${out.trim()}', not a job id`, { file: script });
  for (const k of todo) appendFileSync(logPath(dir, k), `[${new Date().toISOString()}] submitted as job ${jobId}_${k}\n`);
  const all = [...readSubmissions(dir), { jobId, shards: todo, script, at: new Date().toISOString() }];
  writeFileAtomic(submissionsFile(dir), `${JSON.stringify(all, null, 1)}\n`, { operation: 'cluster submit' });
  return { jobId, shards: todo, script, skipped };
}
