#!/usr/bin/env node
// Security gate: runs Doyensec's electronegativity over the Electron sources (electron/main,
// electron/preload, renderer/src) and fails on any finding that is not in the reviewed allowlist
// (security/electronegativity-allowlist.json, each entry with the reason it is acceptable).
// The package's own CLI is broken with the commander version npm hoists here (it prints its usage
// and exits), and it always exits 0 anyway, so this calls its runner and parses the SARIF itself.
'use strict';
const { mkdtempSync, readFileSync, existsSync } = require('node:fs');
const { join, resolve, relative } = require('node:path');
const { tmpdir } = require('node:os');
const run = require('@doyensec/electronegativity/dist/runner.js');

const root = resolve(__dirname, '..');
const inputs = (process.argv.slice(2).length ? process.argv.slice(2) : ['electron/main', 'electron/preload', 'renderer/src'])
  .map((p) => resolve(root, p))
  .filter((p) => existsSync(p));
const allowlist = JSON.parse(readFileSync(join(root, 'security', 'electronegativity-allowlist.json'), 'utf8'));
const electronVersion = require(join(root, 'node_modules', 'electron', 'package.json')).version;

// The runner writes its report with an asynchronous write it does not await.
async function readWhenWritten(file) {
  for (let i = 0; i < 200; i++) {
    try {
      return JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`electronegativity wrote no readable report at ${file}`);
}

function key(f) {
  return `${f.ruleId} ${f.file}`;
}

(async () => {
  const findings = [];
  for (const input of inputs) {
    const out = join(mkdtempSync(join(tmpdir(), 'electronegativity-')), 'out.sarif');
    await run(
      {
        input, output: out, isSarif: true, customScan: [], excludeFromScan: [], severitySet: undefined,
        confidenceSet: undefined, isRelative: false, isVerbose: false, electronUpgrade: undefined,
        electronVersionOverride: electronVersion, parserPlugins: [],
      },
      false,
    );
    const sarif = await readWhenWritten(out);
    for (const r of sarif.runs[0].results) {
      const loc = r.locations?.[0]?.physicalLocation;
      const uri = (loc?.artifactLocation?.uri ?? '').replace(/^file:\/\//, '');
      // Global checks report the scanned folder itself, not a file.
      const file = uri && uri !== '/' ? relative(root, resolve(input, uri)) : relative(root, input);
      findings.push({ ruleId: r.ruleId, file, line: loc?.region?.startLine ?? 0, message: r.message?.text ?? '' });
    }
  }
  const allowed = new Map(allowlist.entries.map((e) => [`${e.ruleId} ${e.file}`, e]));
  const unexpected = findings.filter((f) => !allowed.has(key(f)));
  const used = new Set(findings.map(key));
  const stale = allowlist.entries.filter((e) => !used.has(`${e.ruleId} ${e.file}`));
  console.log(`electronegativity: scanned ${inputs.map((p) => relative(root, p)).join(', ')}: ${findings.length} finding(s), ${findings.length - unexpected.length} allowlisted`);
  for (const f of findings) {
    const a = allowed.get(key(f));
    console.log(`  ${a ? 'allowed ' : 'FINDING '} ${f.ruleId} ${f.file}:${f.line}${a ? ` (${a.reason})` : ''}`);
  }
  for (const e of stale) console.log(`  stale allowlist entry (no longer reported): ${e.ruleId} ${e.file}`);
  if (unexpected.length > 0) {
    console.error(`electronegativity: ${unexpected.length} finding(s) not in security/electronegativity-allowlist.json`);
    process.exit(1);
  }
})().catch((e) => {
  console.error(`electronegativity: scan failed: ${e.stack || e}`);
  process.exit(1);
});
