/**
 * `delineate <command> [options]`: the command line over the engine (DESIGN.md, "Command line
 * contract"). Every command takes --db FILE and --json; with --json exactly one JSON document goes
 * to stdout and everything else to stderr. Exit status 0 on success, 1 when the command failed
 * (the message names the input at fault), 2 for a usage error.
 */
import { readFileSync } from 'node:fs';
import { parseArgs, str, bool, UsageError, type FlagSpec } from './args.js';
import type { CliContext, Command } from './command.js';
import { COMMANDS } from './commands/index.js';
import { openDatabase, type Db } from '../engine/store/db.js';
import { defaultDatabasePath } from '../engine/paths.js';
import { DelineateError, InputError, toErrorPayload } from '../engine/errors.js';
import { restrictUmask, storageError, storageReason } from '../engine/fs/atomic.js';
import { damagedDatabase, isCorruption } from '../engine/store/health.js';

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

const EXIT_CODES = 'exit status: 0 success, 1 the command failed (the message names the input at fault), 2 usage error';

function usage(): string {
  const lines = ['usage: delineate <command> [options] [--db FILE] [--json]', '       delineate <command> --help | delineate --help | delineate --version', '', 'commands:'];
  for (const c of COMMANDS) lines.push(`  ${c.path.join(' ').padEnd(18)} ${c.summary}`);
  lines.push('', EXIT_CODES);
  return lines.join('\n');
}

/** The commands under a group word (`delineate review --help` lists review approve, reject, ...). */
function groupUsage(words: string[]): string | undefined {
  const members = COMMANDS.filter((c) => c.path.length > words.length && words.every((w, i) => c.path[i] === w));
  if (members.length === 0) return undefined;
  return [`usage: delineate ${words.join(' ')} <${members.map((c) => c.path[words.length]).join('|')}> [options]`, '', ...members.map((c) => `  ${c.usage}\n      ${c.summary}`), '', EXIT_CODES].join('\n');
}

function commandUsage(cmd: Command): string {
  const spec: Record<string, FlagSpec> = { ...cmd.flags, ...COMMON };
  const flags = Object.entries(spec).map(([name, f]) => {
    const arg = f.type === 'boolean' ? '' : f.type === 'list' ? ' VALUE...' : ' VALUE';
    return `  --${`${name}${arg}`.padEnd(22)} ${f.description ?? ''}`.trimEnd();
  });
  return [`usage: ${cmd.usage}`, '', cmd.summary, '', 'options:', ...flags, '', EXIT_CODES].join('\n');
}

/** The version in package.json (the CLI runs from the repository or the installed package). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

const isHelp = (a: string): boolean => a === '--help' || a === '-h';

export async function main(argv: string[]): Promise<number> {
  restrictUmask();
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    process.stdout.write(`delineate ${version()}\n`);
    return 0;
  }
  if (argv.length >= 1 && (isHelp(argv[0]!) || argv[0] === 'help')) {
    // `delineate --help`, `delineate help`, `delineate help <command>`.
    const words = argv.slice(1).filter((a) => !isHelp(a));
    const target = words.length > 0 ? findCommand(words) : undefined;
    const text = words.length === 0 ? usage() : target && target.rest.length === 0 ? commandUsage(target.cmd) : groupUsage(words);
    if (text === undefined) {
      process.stderr.write(`unknown command: ${words.join(' ')}\n\n${usage()}\n`);
      return 2;
    }
    process.stdout.write(`${text}\n`);
    return 0;
  }
  const found = findCommand(argv);
  if (!found) {
    const words = argv.filter((a) => !isHelp(a));
    const group = groupUsage(words);
    if (group !== undefined && argv.some(isHelp)) {
      process.stdout.write(`${group}\n`);
      return 0;
    }
    if (group !== undefined) {
      process.stderr.write(`delineate ${words.join(' ')}: which one?\n\n${group}\n`);
      return 2;
    }
    process.stderr.write(`${argv.length ? `unknown command: ${argv.join(' ')}\n\n` : ''}${usage()}\n`);
    return 2;
  }
  const { cmd, rest } = found;
  // --help wins over everything else on the line, even options that would not parse.
  if (rest.some(isHelp)) {
    process.stdout.write(`${commandUsage(cmd)}\n`);
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs(rest, { ...COMMON, ...cmd.flags });
  } catch (e) {
    process.stderr.write(`delineate ${cmd.path.join(' ')}: ${(e as Error).message}\nusage: ${cmd.usage}\n`);
    return 2;
  }
  const json = bool(parsed, 'json');
  const dbPath = str(parsed, 'db') ?? defaultDatabasePath();
  let db: Db | undefined;
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const ctx: CliContext = {
    db: () => (db ??= openDatabase(dbPath, { check: 'quick' })),
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
  } catch (caught) {
    const e = storageFailure(caught, cmd, dbPath);
    const p = toErrorPayload(e);
    process.stderr.write(`delineate ${cmd.path.join(' ')}: ${p.message}\n`);
    if (!(caught instanceof DelineateError) && caught instanceof Error && caught.stack && process.env.DELINEATE_DEBUG) {
      process.stderr.write(`${caught.stack}\n`);
    }
    return isUsageError(e) ? 2 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    db?.close();
  }
}

/**
 * Exit status 2 for a command line the command could not use as given: the parser's errors, and a
 * command's own argument checks ("option --mode must be wpl or spl", "give exactly one of --box and
 * --points"), which name an option before anything is read or written.
 */
function isUsageError(e: unknown): boolean {
  if (e instanceof UsageError) return true;
  return e instanceof InputError && /^(unknown option|options? --|give (exactly one of )?--)/.test(e.message);
}

/**
 * SQLite's own errors, said as what they mean for this command: a full disk or a read-only folder
 * names the command and the database; a corrupt page reports the database as damaged with its last
 * good backup. Anything else passes through.
 */
function storageFailure(e: unknown, cmd: Command, dbPath: string): unknown {
  if (e instanceof DelineateError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return e;
  if (isCorruption(e)) return damagedDatabase(dbPath, (e as Error).message, e);
  if (storageReason(e) !== undefined || code.startsWith('SQLITE_IOERR')) return storageError('database', dbPath, e);
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_')) {
    return new DelineateError('conflict', `delineate ${cmd.path.join(' ')}: database ${dbPath} stayed busy (another Delineate process held it longer than the wait); nothing was changed by the failed step, run it again`, { file: dbPath }, { cause: e });
  }
  return e;
}
