/**
 * The electronegativity gate (scripts/electronegativity.cjs) must be able to fail: on a deliberately
 * insecure main process (test/fixtures/insecure-electron/main.js) it exits 1 and names the findings
 * with file and line; a reviewed allowlist covering exactly those findings lets it pass; an
 * allowlist entry without a reason or review date is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const gate = join(root, 'scripts', 'electronegativity.cjs');
const fixture = 'test/fixtures/insecure-electron';

function runGate(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [gate, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `FINDING RULE file:line` lines of the gate's report. */
function findings(stdout: string): { ruleId: string; file: string; line: number }[] {
  return [...stdout.matchAll(/^\s+FINDING (\S+) (\S+):(\d+)/gm)].map((m) => ({ ruleId: m[1]!, file: m[2]!, line: Number(m[3]) }));
}

test('the gate fails on an insecure main process and names rule, file and line', () => {
  const r = runGate([fixture]);
  assert.equal(r.status, 1, `gate should fail:\n${r.stdout}\n${r.stderr}`);
  const f = findings(r.stdout);
  const file = `${fixture}/main.js`;
  const at = (ruleId: string): number | undefined => f.find((x) => x.ruleId === ruleId && x.file === file)?.line;
  assert.equal(at('NODE_INTEGRATION_JS_CHECK'), 8, 'nodeIntegration: true is on line 8');
  assert.equal(at('CONTEXT_ISOLATION_JS_CHECK'), 9, 'contextIsolation: false is on line 9');
  assert.equal(at('WEB_SECURITY_JS_CHECK'), 10);
  assert.ok(f.some((x) => x.ruleId === 'PERMISSION_REQUEST_HANDLER_GLOBAL_CHECK'), 'no permission handler is a finding');
  assert.match(r.stderr, /finding\(s\) not in/);
});

test('a reviewed allowlist covering every finding lets the gate pass; a malformed one is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gate-allow-'));
  try {
    const first = findings(runGate([fixture]).stdout);
    assert.ok(first.length >= 5);
    const keys = [...new Set(first.map((x) => `${x.ruleId} ${x.file}`))];
    const entries = keys.map((k) => {
      const [ruleId, file] = k.split(' ');
      return { ruleId, file, reason: 'fixture', reviewed: '2026-01-01' };
    });
    const ok = join(dir, 'ok.json');
    writeFileSync(ok, JSON.stringify({ entries }));
    const pass = runGate(['--allowlist', ok, fixture]);
    assert.equal(pass.status, 0, `${pass.stdout}\n${pass.stderr}`);
    assert.equal(findings(pass.stdout).length, 0);

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ entries: entries.map((e, i) => (i === 0 ? { ruleId: e.ruleId, file: e.file, reviewed: e.reviewed } : e)) }));
    const refused = runGate(['--allowlist', bad, fixture]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /entry 0 lacks "reason"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
