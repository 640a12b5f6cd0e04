/**
 * Hardening checks electronegativity lacks (see electron-audit.ts), run over the real main process
 * (electron/main/**), plus proof that each check fails on the insecure variant it guards against.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { auditMain, type SourceText } from './electron-audit.js';
import { APP_SCHEME, ELECTRON_CSP } from '../../../electron/main/policy.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

function sources(dir: string, exts: string[]): SourceText[] {
  const out: SourceText[] = [];
  const visit = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) visit(p);
      else if (exts.some((e) => name.endsWith(e))) out.push({ path: relative(root, p), text: readFileSync(p, 'utf8') });
    }
  };
  visit(join(root, dir));
  return out;
}

/** The svelte components' <script> blocks, as TypeScript. */
function svelteScripts(files: SourceText[]): SourceText[] {
  return files.map((f) => ({ path: `${f.path}.ts`, text: [...f.text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n') }));
}

test('electron/main passes the static hardening audit', () => {
  const main = sources('electron/main', ['.ts']);
  assert.ok(main.some((s) => s.path.endsWith('main.ts')), 'electron/main/main.ts exists');
  assert.deepEqual(auditMain(main, APP_SCHEME), []);
});

test('shell.openExternal is never called with a non-constant argument anywhere in the app', () => {
  const all = [
    ...sources('electron/main', ['.ts']),
    ...sources('electron/preload', ['.ts']),
    ...sources('renderer/src', ['.ts']),
    ...svelteScripts(sources('renderer/src', ['.svelte'])),
  ];
  assert.ok(all.length > 5);
  assert.deepEqual(auditMain(all, APP_SCHEME).filter((p) => p.includes('openExternal')), []);
});

test('the window CSP allows scripts and connections from the app only', () => {
  const dir = new Map(ELECTRON_CSP.split(';').map((d) => {
    const [k, ...v] = d.trim().split(/\s+/);
    return [k!, v] as const;
  }));
  assert.deepEqual(dir.get('script-src'), ["'self'"]);
  assert.deepEqual(dir.get('connect-src'), ["'self'"]);
  assert.deepEqual(dir.get('object-src'), ["'none'"]);
  assert.ok(!ELECTRON_CSP.includes('unsafe-eval'));
});

const SECURE = `
import { app, BrowserWindow, ipcMain, session, shell } from 'electron';
function prefs(preload: string) { return { preload, sandbox: true, contextIsolation: true, nodeIntegration: false }; }
app.on('web-contents-created', (_e, contents) => {
  contents.on('will-navigate', (e) => e.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});
session.defaultSession.setPermissionRequestHandler((_wc, _p, callback) => callback(false));
session.defaultSession.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !details.url.startsWith('delineate:') }));
for (const name of API_METHOD_NAMES) {
  ipcMain.handle(name, async (event, raw) => {
    if (!isAppUrl(event.senderFrame?.url)) return { error: 'forbidden' };
    return { result: await service[name](API_METHODS[name](raw)) };
  });
}
const ORIGIN = 'delineate://app';
const w = new BrowserWindow({ webPreferences: prefs('p.cjs') });
void w.loadURL(\`\${ORIGIN}/index.html\`);
void shell.openExternal('https://example.org/help');
`;

function audit(text: string): string[] {
  return auditMain([{ path: 'main.ts', text }], 'delineate');
}

test('the audit passes a secure main and fails each insecure variant', () => {
  assert.deepEqual(audit(SECURE), []);
  const cases: [string, string, RegExp][] = [
    ['sandbox: true', 'sandbox: false', /webPreferences\.sandbox must be true/],
    ['contextIsolation: true', 'contextIsolation: true, webSecurity: false', /webSecurity must not be false/],
    ['nodeIntegration: false', 'nodeIntegration: true', /nodeIntegration must be false/],
    ['(e) => e.preventDefault()', '() => undefined', /will-navigate handler does not call preventDefault/],
    ["({ action: 'deny' })", "({ action: 'allow' })", /setWindowOpenHandler must always return/],
    ['callback(false)', 'callback(true)', /permission request handler must answer callback\(false\)/],
    ["if (!isAppUrl(event.senderFrame?.url)) return { error: 'forbidden' };", '', /must start with: if \(!isAppUrl/],
    ['API_METHODS[name](raw)', 'raw', /does not validate its argument/],
    ['`${ORIGIN}/index.html`', "'file:///opt/app/index.html'", /not on the delineate:\/\/ protocol/],
    ["void w.loadURL(`${ORIGIN}/index.html`);", "void w.loadFile('index.html');", /loadFile loads over file:\/\//],
    ["shell.openExternal('https://example.org/help')", 'shell.openExternal(String(location))', /openExternal with a non-constant argument/],
    ["callback({ cancel: !details.url.startsWith('delineate:') })", 'callback({})', /onBeforeRequest handler never answers \{cancel\}/],
    ['ipcMain.handle(name, async', "ipcMain.on('x', () => undefined); ipcMain.handle(name, async", /ipcMain\.on bypasses/],
  ];
  for (const [from, to, expected] of cases) {
    assert.ok(SECURE.includes(from), `fixture contains ${from}`);
    const problems = audit(SECURE.replace(from, to));
    assert.ok(problems.some((p) => expected.test(p)), `${to}: expected ${expected}, got ${JSON.stringify(problems)}`);
  }
  // Navigation guards set on one window only (not every web contents) do not count.
  const oneWindow = SECURE.replace("app.on('web-contents-created', (_e, contents) => {", 'function guard(contents) {').replace('});\nsession', '}\nsession');
  assert.ok(audit(oneWindow).some((p) => /outside app.on\('web-contents-created'\)/.test(p)));
});

test('the audit follows IPC handlers delegated to a guarded handler table, and fails an unguarded one', () => {
  const main = SECURE.replace(
    /for \(const name of API_METHOD_NAMES\) \{[\s\S]*?\n\}\n/,
    'const handlers = apiHandlers(service);\nfor (const name of API_METHOD_NAMES) {\n  ipcMain.handle(name, (event, raw) => handlers[name](event.senderFrame?.url, raw));\n}\n',
  );
  assert.notEqual(main, SECURE);
  const table = `
export function apiHandlers(service) {
  const out = {};
  for (const name of API_METHOD_NAMES) {
    out[name] = async (senderUrl, raw) => {
      if (!isAppUrl(senderUrl)) return { error: 'forbidden' };
      return { result: await service[name](API_METHODS[name](raw)) };
    };
  }
  return out;
}`;
  const run = (m: string, tbl: string): string[] => auditMain([{ path: 'main.ts', text: m }, { path: 'handlers.ts', text: tbl }], 'delineate');
  assert.deepEqual(run(main, table), []);
  assert.ok(run(main, table.replace("if (!isAppUrl(senderUrl)) return { error: 'forbidden' };", '')).some((p) => /whose handler at handlers\.ts:\d+ must start with/.test(p)));
  assert.ok(run(main, table.replace('API_METHODS[name](raw)', 'raw')).some((p) => /does not validate/.test(p)));
  assert.ok(run(main.replace('handlers[name](event.senderFrame?.url, raw)', 'handlers[name](undefined, raw)'), table).some((p) => /must start with/.test(p)));
  assert.ok(run(main, '').some((p) => /not in the audited sources/.test(p)));
});

test('the desktop app writes no console logs that could carry patient data', () => {
  // Errors travel as DelineateError payloads to the UI (names of files and series, by design); the
  // main process, preload and engine never print, so nothing lands in a log file on the workstation.
  const found: string[] = [];
  for (const dir of ['electron/main', 'electron/preload', 'electron/engine']) {
    for (const s of sources(dir, ['.ts'])) {
      const sf = ts.createSourceFile(s.path, s.text, ts.ScriptTarget.ES2022, true);
      const visit = (n: ts.Node): void => {
        if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && n.expression.expression.getText() === 'console') {
          found.push(`${s.path}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`);
        }
        n.forEachChild(visit);
      };
      visit(sf);
    }
  }
  assert.deepEqual(found, []);
});
