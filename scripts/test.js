#!/usr/bin/env node
// Runs the test suites with Node's own test runner (TypeScript through tsx).
// `node scripts/test.js [suite...]`: suites are folders of test/ (unit, integration, parity, e2e);
// no argument runs them all. Each file runs in its own process.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const suites = process.argv.slice(2);
const wanted = suites.length > 0 ? suites : ['unit', 'integration', 'parity', 'e2e'];

function collect(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries.sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(collect(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = wanted.flatMap((s) => collect(join(root, 'test', s)));
if (files.length === 0) {
  console.error(`no test files under test/{${wanted.join(',')}}`);
  process.exit(1);
}
const args = ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files];
const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
