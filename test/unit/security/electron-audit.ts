/**
 * A static audit of the Electron main process with the TypeScript compiler API, for the checklist
 * items electronegativity cannot see (it reads object literals at the call site only and has no
 * notion of IPC sender validation or of what a loaded URL resolves to):
 * - every BrowserWindow's webPreferences (literal, or returned by a function of electron/main) has
 *   sandbox: true, contextIsolation: true, nodeIntegration: false and nothing re-enabling Node,
 *   webviews, insecure content or disabling web security;
 * - every web contents (app 'web-contents-created') denies navigation (will-navigate
 *   preventDefault) and new windows (setWindowOpenHandler returning {action: 'deny'} only);
 * - the session's permission request handler only ever answers false;
 * - the session cancels web requests (webRequest.onBeforeRequest answering {cancel}), so the
 *   renderer has no network beyond the app's own scheme;
 * - no loadFile, and every loadURL argument resolves to a constant on the custom scheme (no file://);
 * - shell.openExternal is only called with constant arguments;
 * - every ipcMain.handle handler first refuses senders that are not the app (isAppUrl on
 *   event.senderFrame.url) and validates its argument through API_METHODS; no ipcMain.on/once.
 * Electron security checklist: https://www.electronjs.org/docs/latest/tutorial/security
 */
import ts from 'typescript';

export interface SourceText {
  path: string;
  text: string;
}

const parse = (s: SourceText): ts.SourceFile => ts.createSourceFile(s.path, s.text, ts.ScriptTarget.ES2022, true, s.path.endsWith('.js') ? ts.ScriptKind.JS : ts.ScriptKind.TS);

function walk(node: ts.Node, visit: (n: ts.Node) => void): void {
  visit(node);
  node.forEachChild((c) => walk(c, visit));
}

function where(n: ts.Node): string {
  const sf = n.getSourceFile();
  return `${sf.fileName}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
}

/** `a.b.c(...)` -> 'c'; `c(...)` -> 'c'. */
function calleeName(call: ts.CallExpression): string | undefined {
  const e = call.expression;
  if (ts.isIdentifier(e)) return e.text;
  if (ts.isPropertyAccessExpression(e)) return e.name.text;
  return undefined;
}
function calleeObject(call: ts.CallExpression): string | undefined {
  const e = call.expression;
  return ts.isPropertyAccessExpression(e) ? e.expression.getText() : undefined;
}

function unwrap(e: ts.Expression): ts.Expression {
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e) || ts.isTypeAssertionExpression(e)) e = e.expression;
  return e;
}

/** Every top-level `const NAME = <expr>` and `function NAME` across the audited files. */
class Scope {
  consts = new Map<string, ts.Expression>();
  functions = new Map<string, ts.FunctionLikeDeclaration>();
  constructor(files: ts.SourceFile[]) {
    for (const sf of files) {
      for (const st of sf.statements) {
        if (ts.isVariableStatement(st) && st.declarationList.flags & ts.NodeFlags.Const) {
          for (const d of st.declarationList.declarations) {
            if (!ts.isIdentifier(d.name) || !d.initializer) continue;
            const init = unwrap(d.initializer);
            this.consts.set(d.name.text, init);
            if (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) this.functions.set(d.name.text, init);
          }
        }
        if (ts.isFunctionDeclaration(st) && st.name) this.functions.set(st.name.text, st);
      }
    }
  }

  /** The constant string value of an expression, or undefined when it is not provably constant. */
  str(e: ts.Expression, depth = 0): string | undefined {
    e = unwrap(e);
    if (depth > 10) return undefined;
    if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return e.text;
    if (ts.isIdentifier(e)) {
      const c = this.consts.get(e.text);
      return c ? this.str(c, depth + 1) : undefined;
    }
    if (ts.isTemplateExpression(e)) {
      let s = e.head.text;
      for (const span of e.templateSpans) {
        const v = this.str(span.expression, depth + 1);
        if (v === undefined) return undefined;
        s += v + span.literal.text;
      }
      return s;
    }
    if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.PlusToken) {
      const l = this.str(e.left, depth + 1);
      const r = this.str(e.right, depth + 1);
      return l !== undefined && r !== undefined ? l + r : undefined;
    }
    return undefined;
  }

  /** The object literal an expression denotes: a literal, a const, or what a local function returns. */
  object(e: ts.Expression, depth = 0): ts.ObjectLiteralExpression | undefined {
    e = unwrap(e);
    if (depth > 5) return undefined;
    if (ts.isObjectLiteralExpression(e)) return e;
    if (ts.isIdentifier(e)) {
      const c = this.consts.get(e.text);
      return c ? this.object(c, depth + 1) : undefined;
    }
    if (ts.isCallExpression(e) && ts.isIdentifier(e.expression)) {
      const f = this.functions.get(e.expression.text);
      const rets = f ? returnedExpressions(f) : [];
      return rets.length === 1 ? this.object(rets[0]!, depth + 1) : undefined;
    }
    return undefined;
  }
}

/** The expressions a function returns (arrow bodies included), not looking into nested functions. */
function returnedExpressions(f: ts.FunctionLikeDeclaration): ts.Expression[] {
  if (!f.body) return [];
  if (!ts.isBlock(f.body)) return [f.body];
  const out: ts.Expression[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isFunctionLike(n)) return;
    if (ts.isReturnStatement(n) && n.expression) out.push(n.expression);
    n.forEachChild(visit);
  };
  f.body.forEachChild(visit);
  return out;
}

function prop(o: ts.ObjectLiteralExpression, name: string): ts.Expression | undefined {
  for (const p of o.properties) {
    if (ts.isPropertyAssignment(p) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) && p.name.text === name) return unwrap(p.initializer);
  }
  return undefined;
}
const isTrue = (e: ts.Expression | undefined): boolean => e?.kind === ts.SyntaxKind.TrueKeyword;
const isFalse = (e: ts.Expression | undefined): boolean => e?.kind === ts.SyntaxKind.FalseKeyword;

function asFunction(e: ts.Expression | undefined, scope: Scope): ts.FunctionLikeDeclaration | undefined {
  if (!e) return undefined;
  e = unwrap(e);
  if (ts.isArrowFunction(e) || ts.isFunctionExpression(e)) return e;
  if (ts.isIdentifier(e)) return scope.functions.get(e.text);
  return undefined;
}

function paramName(f: ts.FunctionLikeDeclaration, i: number): string | undefined {
  const p = f.parameters[i];
  return p && ts.isIdentifier(p.name) ? p.name.text : undefined;
}

/** Whether `node` lies inside the callback of `x.on('web-contents-created', ...)`. */
function insideWebContentsCreated(node: ts.Node): boolean {
  for (let n: ts.Node | undefined = node.parent; n; n = n.parent) {
    if (ts.isCallExpression(n) && calleeName(n) === 'on') {
      const a = n.arguments[0];
      if (a && ts.isStringLiteral(a) && a.text === 'web-contents-created') return true;
    }
  }
  return false;
}

const REQUIRED_PREFS: [string, boolean][] = [
  ['sandbox', true],
  ['contextIsolation', true],
  ['nodeIntegration', false],
];
/** Options that must not be set to the insecure value (absent is the secure default). */
const FORBIDDEN_PREFS: [string, boolean][] = [
  ['nodeIntegrationInWorker', true],
  ['nodeIntegrationInSubFrames', true],
  ['webviewTag', true],
  ['webSecurity', false],
  ['allowRunningInsecureContent', true],
  ['experimentalFeatures', true],
];

/** The function-like nodes of a subtree (not descending into the ones found). */
function functionsIn(node: ts.Node): ts.FunctionLikeDeclaration[] {
  const out: ts.FunctionLikeDeclaration[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isArrowFunction(n) || ts.isFunctionExpression(n)) {
      out.push(n);
      return;
    }
    n.forEachChild(visit);
  };
  node.forEachChild(visit);
  return out;
}

/**
 * Problems of a handler `(sender, raw) => ...` whose first statement must refuse a sender that is not
 * the app (`if (!isAppUrl(<senderExpr>)) return/throw`) and which must validate `raw` through
 * API_METHODS[...](raw) before anything else sees it.
 */
function guardProblems(f: ts.FunctionLikeDeclaration, senderExpr: string): string[] {
  const raw = paramName(f, 1);
  const body = f.body && ts.isBlock(f.body) ? f.body : undefined;
  const first = body?.statements[0];
  const out: string[] = [];
  const senderCheck =
    !!first && ts.isIfStatement(first) &&
    first.expression.getText().replace(/\s+/g, '') === `!isAppUrl(${senderExpr})` &&
    (ts.isReturnStatement(first.thenStatement) || ts.isThrowStatement(first.thenStatement) ||
      (ts.isBlock(first.thenStatement) && first.thenStatement.statements.some((st) => ts.isReturnStatement(st) || ts.isThrowStatement(st))));
  if (!senderCheck) out.push(`must start with: if (!isAppUrl(${senderExpr})) return/throw`);
  let validates = false;
  if (body && raw) {
    walk(body, (c) => {
      if (ts.isCallExpression(c) && ts.isElementAccessExpression(c.expression) && c.expression.expression.getText() === 'API_METHODS' && c.arguments[0]?.getText() === raw) validates = true;
    });
  }
  if (!validates) out.push(`does not validate its argument with API_METHODS[name](${raw ?? 'raw'})`);
  return out;
}

/** `const <name> = <init>` declared in a function enclosing `from`. */
function localConst(from: ts.Node, name: string): ts.Expression | undefined {
  for (let n: ts.Node | undefined = from.parent; n; n = n.parent) {
    if (!ts.isFunctionLike(n) && !ts.isSourceFile(n)) continue;
    let found: ts.Expression | undefined;
    walk(n, (c) => {
      if (!found && ts.isVariableDeclaration(c) && ts.isIdentifier(c.name) && c.name.text === name && c.initializer) found = unwrap(c.initializer);
    });
    if (found) return found;
  }
  return undefined;
}

/**
 * An ipcMain.handle handler `(event, raw)` passes if it is guarded itself (sender check on
 * event.senderFrame?.url, then API_METHODS validation), or if it only delegates
 * `table[name](event.senderFrame?.url, raw)` / `fn(event.senderFrame?.url, raw)` to handlers built by
 * a function of the audited files in which every two-parameter handler is guarded on its first
 * parameter (electron/main/ipc-handlers.ts's apiHandlers).
 */
function ipcHandlerProblems(f: ts.FunctionLikeDeclaration | undefined, scope: Scope): string[] {
  if (!f) return ['is not a function the audit can read'];
  const ev = paramName(f, 0);
  const raw = paramName(f, 1);
  if (!ev || !raw) return ['must take (event, raw)'];
  const sender = `${ev}.senderFrame?.url`;
  const inline = guardProblems(f, sender);
  if (inline.length === 0) return [];
  // Delegation: the body is one call with exactly (event.senderFrame?.url, raw).
  let call: ts.Expression | undefined = f.body && !ts.isBlock(f.body) ? unwrap(f.body) : undefined;
  if (f.body && ts.isBlock(f.body) && f.body.statements.length === 1) {
    const st = f.body.statements[0]!;
    if (ts.isReturnStatement(st) && st.expression) call = unwrap(st.expression);
  }
  if (!call || !ts.isCallExpression(call)) return inline;
  const args = call.arguments.map((a) => a.getText().replace(/\s+/g, ''));
  if (args.length !== 2 || args[0] !== sender || args[1] !== raw) return inline;
  let callee = unwrap(call.expression);
  if (ts.isElementAccessExpression(callee)) callee = unwrap(callee.expression);
  if (!ts.isIdentifier(callee)) return inline;
  // The handler table/function comes from a builder call: `const handlers = apiHandlers(...)`.
  const init = localConst(f, callee.text);
  const builderName = init && ts.isCallExpression(init) && ts.isIdentifier(init.expression) ? init.expression.text : callee.text;
  const builder = scope.functions.get(builderName);
  if (!builder?.body) return [`delegates to ${callee.text}, whose builder ${builderName} is not in the audited sources`];
  const handlers = functionsIn(builder.body).filter((g) => g.parameters.length === 2);
  if (handlers.length === 0) return [`delegates to ${builderName}, which builds no (sender, raw) handler`];
  const out: string[] = [];
  for (const g of handlers) {
    const p0 = paramName(g, 0);
    if (!p0) out.push(`delegates to ${builderName}: a handler without a named sender parameter (${where(g)})`);
    else out.push(...guardProblems(g, p0).map((p) => `delegates to ${builderName}, whose handler at ${where(g)} ${p}`));
  }
  return out;
}

/** Audits the given main-process sources; returns one line per problem (empty: passes). */
export function auditMain(sources: SourceText[], appScheme: string): string[] {
  const files = sources.map(parse);
  const scope = new Scope(files);
  const problems: string[] = [];
  let windows = 0;
  let navigationDenied = false;
  let windowOpenDenied = false;
  let permissionsDenied = false;
  let requestsFiltered = false;
  let ipcHandlers = 0;

  for (const sf of files) {
    walk(sf, (n) => {
      if (ts.isNewExpression(n) && n.expression.getText() === 'BrowserWindow') {
        windows++;
        const opts = n.arguments?.[0] ? scope.object(n.arguments[0]) : undefined;
        const prefsExpr = opts ? prop(opts, 'webPreferences') : undefined;
        const prefs = prefsExpr ? scope.object(prefsExpr) : undefined;
        if (!prefs) {
          problems.push(`${where(n)}: BrowserWindow webPreferences cannot be resolved to an object literal`);
          return;
        }
        for (const [k, v] of REQUIRED_PREFS) {
          const e = prop(prefs, k);
          if (!(v ? isTrue(e) : isFalse(e))) problems.push(`${where(n)}: BrowserWindow webPreferences.${k} must be ${v} (${where(prefs)})`);
        }
        for (const [k, bad] of FORBIDDEN_PREFS) {
          const e = prop(prefs, k);
          if (e && !(bad ? isFalse(e) : isTrue(e))) problems.push(`${where(n)}: BrowserWindow webPreferences.${k} must not be ${bad} (${where(prefs)})`);
        }
        return;
      }
      if (!ts.isCallExpression(n)) return;
      const name = calleeName(n);
      const obj = calleeObject(n);
      const arg0 = n.arguments[0];

      if (name === 'on' && arg0 && ts.isStringLiteral(arg0) && arg0.text === 'will-navigate') {
        const f = asFunction(n.arguments[1], scope);
        const ev = f ? paramName(f, 0) : undefined;
        const prevents = !!f?.body && f.body.getText().includes(`${ev}.preventDefault()`);
        if (!prevents) problems.push(`${where(n)}: will-navigate handler does not call preventDefault() on its event`);
        else if (!insideWebContentsCreated(n)) problems.push(`${where(n)}: will-navigate is denied outside app.on('web-contents-created'): other web contents could navigate`);
        else navigationDenied = true;
      }
      if (name === 'setWindowOpenHandler') {
        const f = asFunction(arg0, scope);
        const rets = f ? returnedExpressions(f) : [];
        const allDeny = rets.length > 0 && rets.every((r) => {
          const o = scope.object(r);
          const a = o ? prop(o, 'action') : undefined;
          return !!a && scope.str(a) === 'deny';
        });
        if (!allDeny) problems.push(`${where(n)}: setWindowOpenHandler must always return {action: 'deny'}`);
        else if (!insideWebContentsCreated(n)) problems.push(`${where(n)}: setWindowOpenHandler outside app.on('web-contents-created')`);
        else windowOpenDenied = true;
      }
      if (name === 'setPermissionRequestHandler') {
        const f = asFunction(arg0, scope);
        const cb = f ? paramName(f, 2) : undefined;
        const answers: ts.CallExpression[] = [];
        if (f?.body && cb) walk(f.body, (c) => ts.isCallExpression(c) && ts.isIdentifier(c.expression) && c.expression.text === cb && answers.push(c));
        if (answers.length === 0 || !answers.every((c) => c.arguments.length === 1 && isFalse(unwrap(c.arguments[0]!)))) {
          problems.push(`${where(n)}: the permission request handler must answer callback(false), always`);
        } else permissionsDenied = true;
      }
      if (name === 'onBeforeRequest' && obj?.endsWith('webRequest')) {
        const f = asFunction(n.arguments[n.arguments.length - 1], scope);
        const cb = f ? paramName(f, 1) : undefined;
        let cancels = false;
        if (f?.body && cb) {
          walk(f.body, (c) => {
            if (ts.isCallExpression(c) && ts.isIdentifier(c.expression) && c.expression.text === cb && c.arguments[0]) {
              const o = scope.object(c.arguments[0]);
              if (o && prop(o, 'cancel') !== undefined) cancels = true;
            }
          });
        }
        if (!cancels) problems.push(`${where(n)}: webRequest.onBeforeRequest handler never answers {cancel}`);
        else requestsFiltered = true;
      }
      if (name === 'loadFile') problems.push(`${where(n)}: loadFile loads over file://; serve the UI from the ${appScheme}:// protocol`);
      if (name === 'loadURL') {
        const v = arg0 ? scope.str(arg0) : undefined;
        if (v === undefined) problems.push(`${where(n)}: loadURL argument is not a constant (cannot prove it is not file:// or remote)`);
        else if (!v.startsWith(`${appScheme}://`)) problems.push(`${where(n)}: loadURL(${JSON.stringify(v)}) is not on the ${appScheme}:// protocol`);
      }
      if (name === 'openExternal' && (obj === undefined || /(^|\.)shell$/.test(obj))) {
        if (!arg0 || scope.str(arg0) === undefined) problems.push(`${where(n)}: shell.openExternal with a non-constant argument`);
      }
      if (obj === 'ipcMain' && (name === 'on' || name === 'once' || name === 'addListener')) {
        problems.push(`${where(n)}: ipcMain.${name} bypasses the validating invoke binding; use ipcMain.handle through bindIpc`);
      }
      if (obj === 'ipcMain' && (name === 'handle' || name === 'handleOnce')) {
        ipcHandlers++;
        const f = asFunction(n.arguments[1], scope);
        problems.push(...ipcHandlerProblems(f, scope).map((p) => `${where(n)}: ipcMain.${name} handler ${p}`));
      }
    });
  }
  if (windows === 0) problems.push('no BrowserWindow found in the audited sources');
  if (!navigationDenied) problems.push("no app.on('web-contents-created') handler denies will-navigate");
  if (!windowOpenDenied) problems.push("no app.on('web-contents-created') handler denies new windows (setWindowOpenHandler)");
  if (!permissionsDenied) problems.push('no setPermissionRequestHandler that denies every request');
  if (!requestsFiltered) problems.push('no webRequest.onBeforeRequest filter: the renderer could reach the network');
  if (ipcHandlers === 0) problems.push('no ipcMain.handle found: the api binding is missing');
  return problems;
}
