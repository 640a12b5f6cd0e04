/**
 * Runs the `delineate` CLI in-process and captures what it prints: the exit code `main` returns
 * (0 success, 1 failure, 2 usage error) and stdout / stderr as text. In-process rather than spawned so
 * a test of a command costs milliseconds, not a Node start-up.
 */
import { main } from '../../electron/cli/main.js';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export async function runCli(argv: string[]): Promise<CliResult> {
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
