import type { Db } from '../engine/store/db.js';
import type { FlagSpec, ParsedArgs } from './args.js';

export interface CliContext {
  /** Opens the database named by --db (or the per-user default) on first use. */
  db(): Db;
  dbPath: string;
  json: boolean;
  /** Progress and logs: always stderr, so that --json keeps stdout to one document. */
  log(message: string): void;
  signal: AbortSignal;
}

export interface Command {
  /** Words that select it, e.g. ['series', 'list']. */
  path: string[];
  summary: string;
  usage: string;
  flags: Record<string, FlagSpec>;
  /** Returns the JSON document printed with --json. */
  run(args: ParsedArgs, ctx: CliContext): Promise<unknown>;
  /** Optional human-readable rendering when --json is absent (default: indented JSON). */
  human?(result: unknown): string;
}
