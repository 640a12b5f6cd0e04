/**
 * A small, strict argument parser for the `delineate` command line: `--flag value`, `--flag=value`,
 * repeatable flags, boolean switches, positionals. Unknown flags are errors (a typo must not silently
 * run with defaults on a clinical archive).
 */
import { DelineateError } from '../engine/errors.js';

/**
 * A command line that cannot be understood (unknown option, missing value, missing required
 * option): exit status 2, as opposed to 1 for a command that ran and failed.
 */
export class UsageError extends DelineateError {
  override readonly name = 'UsageError';
  constructor(message: string) {
    super('bad-input', message);
  }
}

export interface FlagSpec {
  /** 'string' takes a value, 'boolean' is a switch, 'list' takes one or more values (repeatable). */
  type: 'string' | 'boolean' | 'list';
  description?: string;
}

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string | boolean | string[]>;
}

export function parseArgs(argv: string[], spec: Record<string, FlagSpec>): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string | boolean | string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    const s = spec[name];
    if (!s) throw new UsageError(`unknown option --${name}`);
    if (s.type === 'boolean') {
      if (eq >= 0) throw new UsageError(`option --${name} takes no value`);
      flags.set(name, true);
      continue;
    }
    const values: string[] = [];
    if (eq >= 0) values.push(a.slice(eq + 1));
    else {
      // A list flag takes every following word up to the next option.
      while (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) {
        values.push(argv[++i]!);
        if (s.type === 'string') break;
      }
    }
    if (values.length === 0) throw new UsageError(`option --${name} needs a value`);
    if (s.type === 'string') {
      if (flags.has(name)) throw new UsageError(`option --${name} given twice`);
      flags.set(name, values[0]!);
    } else {
      const prev = flags.get(name);
      flags.set(name, [...(Array.isArray(prev) ? prev : []), ...values]);
    }
  }
  return { positionals, flags };
}

export function str(a: ParsedArgs, name: string): string | undefined {
  const v = a.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function req(a: ParsedArgs, name: string): string {
  const v = str(a, name);
  if (v === undefined) throw new UsageError(`option --${name} is required`);
  return v;
}

export function bool(a: ParsedArgs, name: string): boolean {
  return a.flags.get(name) === true;
}

export function list(a: ParsedArgs, name: string): string[] {
  const v = a.flags.get(name);
  return Array.isArray(v) ? v : [];
}
