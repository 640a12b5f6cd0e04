/**
 * The command line for tests. `cliInProcess` runs `main` in this process and captures what it
 * writes to stdout and stderr (fast: no new Node and tsx start per call); `cliProcess` spawns
 * bin/delineate.js, for what only a real process shows (its exit status, umask, signals).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { main } from '../../electron/cli/main.js';
import { REPO_ROOT } from './data.js';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/**
 * `main(argv)` with what it writes to stdout and stderr captured; `textOnly` captures only strings and
 * passes other writes through (a test runner's own binary frames, when the caller runs under one).
 */
async function captured(argv: string[], textOnly: boolean): Promise<CliRun> {
  let out = '';
  let err = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  const swap = (write: typeof ow, add: (s: string) => void): typeof ow =>
    ((s: unknown, ...rest: unknown[]) => (!textOnly || typeof s === 'string' ? (add(String(s)), true) : (write as (...a: unknown[]) => boolean)(s, ...rest))) as typeof ow;
  process.stdout.write = swap(ow, (s) => (out += s));
  process.stderr.write = swap(ew, (s) => (err += s));
  try {
    return { code: await main(argv), out, err };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
}

/** `main(argv)` with stdout and stderr captured; calls must not overlap (the streams are swapped). */
export function cliInProcess(argv: string[]): Promise<CliRun> {
  return captured(argv, false);
}

/**
 * `main(argv)` for a `--json` command: only the CLI's text is captured (the test runner itself writes
 * binary frames to stdout), stdout parsed as JSON when it is not empty. Calls must not overlap.
 */
export async function cliJson(argv: string[]): Promise<{ code: number; json: unknown; stderr: string }> {
  const r = await captured(argv, true);
  return { code: r.code, json: r.out.trim() ? JSON.parse(r.out) : undefined, stderr: r.err };
}

/** bin/delineate.js in a child process. */
export function cliProcess(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'delineate.js'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', ...(opts.env ? { env: opts.env } : {}) });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
