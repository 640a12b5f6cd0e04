#!/usr/bin/env node
// Security gate: runs Doyensec's electronegativity over the Electron sources (electron/main,
// electron/preload, renderer/src, renderer/index.html) and fails on any finding that is not in the
// reviewed allowlist (security/electronegativity-allowlist.json: one entry per ruleId + file, each
// with the reason it is acceptable and the date it was reviewed).
//
// `node scripts/electronegativity.cjs [--allowlist FILE] [PATH...]` (paths relative to the
// repository root; default: the four above). Exit status 0: no unexpected finding; 1: unexpected
// findings, a malformed allowlist or a failed scan.
//
// Why not the package's CLI: it is broken with the commander version npm hoists here (it prints its
// usage and exits), and it always exits 0 anyway, so this calls its runner and parses the SARIF.
// Why one staged copy instead of one scan per folder: the global checks (CSP, navigation limits,
// permission handler) look at the whole scan, so scanning electron/preload alone "finds" that it
// sets no permission handler although electron/main does. All inputs are copied into one temporary
// tree (same relative paths) and scanned together. The scanner reads .js/.ts/.html but not .svelte:
// each component's <script> blocks are staged as <name>.svelte.ts with the markup blanked out, so
// line numbers stay those of the component.
'use strict';
const { mkdtempSync, readFileSync, existsSync, cpSync, mkdirSync, writeFileSync, readdirSync, statSync, rmSync } = require('node:fs');
const { join, resolve, relative, dirname, sep } = require('node:path');
const { tmpdir } = require('node:os');
const run = require('@doyensec/electronegativity/dist/runner.js');

const root = resolve(__dirname, '..');
const DEFAULT_INPUTS = ['electron/main', 'electron/preload', 'renderer/src', 'renderer/index.html'];

function parseArgs(argv) {
  let allowlistPath = join(root, 'security', 'electronegativity-allowlist.json');
  const paths = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--allowlist') {
      const v = argv[++i];
      if (!v) throw new Error('--allowlist needs a file');
      allowlistPath = resolve(process.cwd(), v);
    } else paths.push(argv[i]);
  }
  return { allowlistPath, paths: paths.length ? paths : DEFAULT_INPUTS };
}

/** Each entry must name a rule and a file, say why it is acceptable, and when it was reviewed. */
function loadAllowlist(file) {
  const list = JSON.parse(readFileSync(file, 'utf8'));
  if (!list || !Array.isArray(list.entries)) throw new Error(`${file}: expected {"entries": [...]}`);
  const seen = new Set();
  for (const [i, e] of list.entries.entries()) {
    for (const k of ['ruleId', 'file', 'reason', 'reviewed']) {
      if (typeof e[k] !== 'string' || e[k].trim() === '') throw new Error(`${file}: entry ${i} lacks "${k}"`);
    }
    if (!/^\d{4}-\d{2}-\d{2}$/.test(e.reviewed)) throw new Error(`${file}: entry ${i} "reviewed" is not YYYY-MM-DD`);
    const k = `${e.ruleId} ${e.file}`;
    if (seen.has(k)) throw new Error(`${file}: duplicate entry ${k}`);
    seen.add(k);
  }
  return list.entries;
}

/** Keeps only what is inside <script ...>...</script>, blanking everything else but newlines. */
function svelteScripts(text) {
  const out = text.replace(/[^\n]/g, ' ').split('');
  const re = /<script\b[^>]*>([\s\S]*?)<\/script>/g;
  let m;
  while ((m = re.exec(text)) !== null) {
    const start = m.index + m[0].indexOf('>') + 1;
    for (let i = 0; i < m[1].length; i++) out[start + i] = text[start + i];
  }
  return out.join('');
}

function stage(paths, into) {
  const staged = [];
  for (const p of paths) {
    const abs = resolve(root, p);
    if (!existsSync(abs)) continue;
    const rel = relative(root, abs);
    if (rel.startsWith('..')) throw new Error(`input outside the repository: ${p}`);
    const dest = join(into, rel);
    mkdirSync(dirname(dest), { recursive: true });
    cpSync(abs, dest, { recursive: true, filter: (src) => !src.split(sep).includes('node_modules') });
    staged.push(rel);
  }
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const f = join(d, name);
      if (statSync(f).isDirectory()) walk(f);
      else if (name.endsWith('.svelte')) writeFileSync(`${f}.ts`, svelteScripts(readFileSync(f, 'utf8')));
    }
  };
  walk(into);
  return staged;
}

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

(async () => {
  const { allowlistPath, paths } = parseArgs(process.argv.slice(2));
  const entries = loadAllowlist(allowlistPath);
  const electronVersion = require(join(root, 'node_modules', 'electron', 'package.json')).version;
  const work = mkdtempSync(join(tmpdir(), 'electronegativity-'));
  const tree = join(work, 'src');
  mkdirSync(tree);
  const staged = stage(paths, tree);
  if (staged.length === 0) throw new Error(`none of the inputs exist: ${paths.join(', ')}`);
  const out = join(work, 'out.sarif');
  // Offline, the runner's attempts to fetch translations and Electron's release list print noise.
  const log = console.log;
  console.log = (...a) => {
    if (!/Could not retrieve updated translations|fetching Electron's releases/.test(String(a[0]))) log(...a);
  };
  await run(
    {
      // AvailableSecurityFixesGlobalCheck downloads Electron's release list (a network-dependent
      // verdict, and it only judges a scanned package.json, which is not scanned here): excluded.
      input: tree, output: out, isSarif: true, customScan: [], excludeFromScan: ['availablesecurityfixesglobalcheck'], severitySet: undefined,
      confidenceSet: undefined, isRelative: false, isVerbose: false, electronUpgrade: undefined,
      electronVersionOverride: electronVersion, parserPlugins: [],
    },
    false,
  ).finally(() => (console.log = log));
  const sarif = await readWhenWritten(out);
  const findings = [];
  for (const r of sarif.runs[0].results) {
    const loc = r.locations?.[0]?.physicalLocation;
    const uri = (loc?.artifactLocation?.uri ?? '').replace(/^file:\/\//, '');
    // Global checks with nothing to point at report "N/A" or the scanned folder itself: "(global)".
    let file = uri && uri !== '/' && uri !== 'N/A' ? relative(tree, resolve(tree, uri)) : '(global)';
    if (file.startsWith('..') || file === '') file = '(global)';
    file = file.split(sep).join('/').replace(/\.svelte\.ts$/, '.svelte');
    findings.push({ ruleId: r.ruleId, file, line: loc?.region?.startLine ?? 0, message: r.message?.text ?? '' });
  }
  rmSync(work, { recursive: true, force: true });

  const key = (f) => `${f.ruleId} ${f.file}`;
  const allowed = new Map(entries.map((e) => [key(e), e]));
  const unexpected = findings.filter((f) => !allowed.has(key(f)));
  const used = new Set(findings.map(key));
  // Stale entries only make sense when the scan covered their files.
  const covers = (f) => staged.some((s) => f === s || f.startsWith(`${s}/`)) || f === '(global)';
  const stale = entries.filter((e) => covers(e.file) && !used.has(key(e)));
  console.log(`electronegativity ${electronVersion ? `(Electron ${electronVersion})` : ''}: scanned ${staged.join(', ')}: ${findings.length} finding(s), ${findings.length - unexpected.length} allowlisted`);
  for (const f of findings) {
    const a = allowed.get(key(f));
    console.log(`  ${a ? 'allowed' : 'FINDING'} ${f.ruleId} ${f.file}:${f.line}${a ? ` (reviewed ${a.reviewed})` : ` ${f.message.split('\n')[0]}`}`);
  }
  for (const e of stale) console.log(`  stale allowlist entry (no longer reported; remove it): ${e.ruleId} ${e.file}`);
  if (unexpected.length > 0) {
    console.error(`electronegativity: ${unexpected.length} finding(s) not in ${relative(root, allowlistPath)}`);
    process.exit(1);
  }
})().catch((e) => {
  console.error(`electronegativity: scan failed: ${e.stack || e}`);
  process.exit(1);
});
