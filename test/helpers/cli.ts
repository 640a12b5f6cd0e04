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

/** `main(argv)` with stdout and stderr captured; calls must not overlap (the streams are swapped). */
export async function cliInProcess(argv: string[]): Promise<CliRun> {
  let out = '';
  let err = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string | Uint8Array) => ((out += String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => ((err += String(s)), true)) as typeof process.stderr.write;
  try {
    return { code: await main(argv), out, err };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
}

/** bin/delineate.js in a child process. */
export function cliProcess(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'delineate.js'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', ...(opts.env ? { env: opts.env } : {}) });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
