/**
 * `delineate <command> [options]`: the command line over the engine (DESIGN.md, "Command line
 * contract"). Every command takes --db FILE and --json; with --json exactly one JSON document goes
 * to stdout and everything else to stderr. Exit status 0 on success, 1 when the command failed
 * (the message names the input at fault), 2 for a usage error.
 */
import { parseArgs, str, bool } from './args.js';
import type { CliContext, Command } from './command.js';
import { COMMANDS } from './commands/index.js';
import { openDatabase, type Db } from '../engine/store/db.js';
import { defaultDatabasePath } from '../engine/paths.js';
import { DelineateError, toErrorPayload } from '../engine/errors.js';

const COMMON = {
  db: { type: 'string', description: 'database file (default: the per-user data folder)' },
  json: { type: 'boolean', description: 'print exactly one JSON document on stdout' },
  help: { type: 'boolean', description: 'show usage' },
} as const;

function findCommand(argv: string[]): { cmd: Command; rest: string[] } | undefined {
  let best: { cmd: Command; rest: string[] } | undefined;
  for (const cmd of COMMANDS) {
    const n = cmd.path.length;
    if (argv.length >= n && cmd.path.every((w, i) => argv[i] === w)) {
      if (!best || n > best.cmd.path.length) best = { cmd, rest: argv.slice(n) };
    }
  }
  return best;
}

function usage(): string {
  const lines = ['usage: delineate <command> [options] [--db FILE] [--json]', '', 'commands:'];
  for (const c of COMMANDS) lines.push(`  ${c.path.join(' ').padEnd(18)} ${c.summary}`);
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const found = findCommand(argv);
  if (!found) {
    process.stderr.write(`${argv.length ? `unknown command: ${argv.join(' ')}\n\n` : ''}${usage()}\n`);
    return 2;
  }
  const { cmd, rest } = found;
  let parsed;
  try {
    parsed = parseArgs(rest, { ...COMMON, ...cmd.flags });
  } catch (e) {
    process.stderr.write(`delineate ${cmd.path.join(' ')}: ${(e as Error).message}\nusage: ${cmd.usage}\n`);
    return 2;
  }
  if (bool(parsed, 'help')) {
    process.stdout.write(`usage: ${cmd.usage}\n\n${cmd.summary}\n`);
    return 0;
  }
  const json = bool(parsed, 'json');
  const dbPath = str(parsed, 'db') ?? defaultDatabasePath();
  let db: Db | undefined;
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const ctx: CliContext = {
    db: () => (db ??= openDatabase(dbPath)),
    dbPath,
    json,
    log: (m) => process.stderr.write(`${m}\n`),
    signal: controller.signal,
  };
  try {
    const result = await cmd.run(parsed, ctx);
    if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else process.stdout.write(`${cmd.human ? cmd.human(result) : JSON.stringify(result, null, 2)}\n`);
    return 0;
  } catch (e) {
    const p = toErrorPayload(e);
    process.stderr.write(`delineate ${cmd.path.join(' ')}: ${p.message}\n`);
    if (!(e instanceof DelineateError) && e instanceof Error && e.stack && process.env.DELINEATE_DEBUG) {
      process.stderr.write(`${e.stack}\n`);
    }
    return p.code === 'bad-input' && /^(unknown option|option --)/.test(p.message) ? 2 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    db?.close();
  }
}
