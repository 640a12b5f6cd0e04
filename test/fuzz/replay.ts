/**
 * `node --import tsx test/fuzz/replay.ts TARGET SEED INDEX OUTDIR`: writes one fuzz case's files to
 * OUTDIR (to turn a finding into a fixture, or to debug it in the main thread).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { caseFor, TARGETS } from './harness.js';

const [name, seed, index, out] = process.argv.slice(2);
const t = TARGETS.find((x) => x.name === name);
if (!t || !seed || !index || !out) {
  process.stderr.write(`usage: replay.ts TARGET SEED INDEX OUTDIR (targets: ${TARGETS.map((x) => x.name).join(', ')})\n`);
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const c = caseFor(t, t.seeds(join(out, '.seeds')), Number(seed), Number(index));
for (const [f, b] of c.files) writeFileSync(join(out, f), b);
if (c.http) writeFileSync(join(out, 'request.json'), JSON.stringify(c.http));
process.stdout.write(`${c.files.map(([f]) => join(out, f)).join('\n')}\n`);
