/**
 * `npm run bench -- <name> [args]`: runs test/bench/<name>.ts, whose `bench(args)` prints each figure
 * beside a baseline measured in the same run (as a ratio), so numbers from different machines stay
 * comparable. Benchmarks are never assertions: they measure and print.
 */
import { readdirSync } from 'node:fs';

const here = new URL('.', import.meta.url).pathname;
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();

const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <name>\navailable: ${available.join(', ') || '(none)'}\n`);
  process.exit(name ? 2 : 0);
}
const mod = (await import(`./${name}.ts`)) as { bench(args: string[]): Promise<void> };
await mod.bench(args);
