/**
 * Every schema migration, in order. The position in this list is the schema version: never reorder,
 * never edit one that has shipped; add a new file and a new line. Each has a test in
 * test/unit/store/ that migrates to N-1, inserts data, migrates to N and checks it.
 */
import type { Migration } from './types.js';
import { m001Archive } from './001_archive.js';
import { m002Templates } from './002_templates.js';
import { m003SupportCache } from './003_support_cache.js';
import { m004Network } from './004_network.js';
import { m005Jobs } from './005_jobs.js';
import { m006Deid } from './006_deid.js';

export const MIGRATIONS: readonly Migration[] = [m001Archive, m002Templates, m003SupportCache, m004Network, m005Jobs, m006Deid];

for (const [i, m] of MIGRATIONS.entries()) {
  if (m.version !== i + 1) throw new Error(`migration ${m.name} has version ${m.version}, expected ${i + 1}`);
}
