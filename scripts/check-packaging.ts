/**
 * Checks the installer configuration as far as it can be checked without the Electron binary
 * (which cannot be downloaded here): electron-builder.yml loads and validates against
 * electron-builder's own schema (app-builder-lib's scheme.json, through its validateConfiguration),
 * the app's identity is the stable one, `files` and the main entry point name what `npm run dist`
 * builds, the native modules unpacked from asar are real production dependencies (and every native
 * production dependency is unpacked), the Electron fuses are set, and per-user data (models, the
 * database) never goes into the install folder.
 *
 * `node --import tsx scripts/check-packaging.ts [--compile]`: prints one line per problem, exit 1 if
 * any. `--compile` also runs the main-process compile (tsc -p electron/main/tsconfig.build.json) into
 * a temporary folder and checks that the entry point and the worker scripts are emitted.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The identity the installers, the uninstall entries and the per-user folder are keyed on. */
export const APP_ID = 'org.delineate.app';
export const PRODUCT_NAME = 'Delineate';

/** Fuses the security checklist requires (https://www.electronjs.org/docs/latest/tutorial/fuses). */
export const REQUIRED_FUSES: Record<string, boolean> = {
  runAsNode: false,
  enableCookieEncryption: true,
  enableNodeOptionsEnvironmentVariable: false,
  enableNodeCliInspectArguments: false,
  enableEmbeddedAsarIntegrityValidation: true,
  onlyLoadAppFromAsar: true,
};

/** Worker scripts the engine starts by file name: they must be emitted next to their callers. */
const WORKER_OUTPUTS = [
  'electron/engine/service-worker.js',
  'electron/engine/jobs/worker.js',
  'electron/engine/dicom/decode-worker.js',
  'electron/engine/segment/prep-worker.js',
  'electron/engine/localize/atlas/atlas-worker.js',
];

export type Config = Record<string, unknown> & {
  appId?: string;
  productName?: string;
  files?: unknown;
  asarUnpack?: unknown;
  extraMetadata?: Record<string, unknown>;
  electronFuses?: Record<string, unknown>;
  directories?: { output?: string; buildResources?: string };
  mac?: { entitlements?: string; entitlementsInherit?: string; hardenedRuntime?: boolean };
};
type Pkg = {
  name: string;
  main?: string;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
};

/** electron-builder's glob subset used in `files` / `asarUnpack`: `**`, `*`, leading `!`. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Whether `file` ends up in the package under electron-builder's `files` (last matching pattern wins). */
export function includedByFiles(patterns: string[], file: string): boolean {
  let inc = false;
  for (const p of patterns) {
    const neg = p.startsWith('!');
    const g = neg ? p.slice(1) : p;
    // A pattern may name a folder (everything under it) or a file.
    if (globToRegExp(g).test(file) || globToRegExp(`${g.replace(/\/$/, '')}/**`).test(file)) inc = !neg;
  }
  return inc;
}

/**
 * A pattern list as electron-builder keeps it: a string, strings, or (after getConfig normalizes
 * `files`) FileSet objects `{from?, to?, filter}`; only sets taken from the project root count.
 */
function stringList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v)) return [];
  return v.flatMap((x: unknown) => {
    if (typeof x === 'string') return [x];
    if (x && typeof x === 'object' && 'filter' in x) {
      const set = x as { from?: string; to?: string; filter?: unknown };
      if ((set.from ?? '.') !== '.' || (set.to ?? '.') !== '.') return [];
      return stringList(set.filter);
    }
    return [];
  });
}

/** A package in node_modules is native if it ships a binding.gyp or any compiled .node file. */
function isNative(dir: string, depth = 0): boolean {
  if (depth === 0 && existsSync(join(dir, 'binding.gyp'))) return true;
  if (depth > 6) return false;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return false;
  }
  for (const n of names) {
    if (n === 'node_modules') continue;
    const p = join(dir, n);
    if (n.endsWith('.node') && statSync(p).isFile()) return true;
    if (statSync(p).isDirectory() && isNative(p, depth + 1)) return true;
  }
  return false;
}

type ConfigModule = {
  getConfig: (projectDir: string, configPath: string | null, fromOptions: null) => Promise<Config>;
  validateConfiguration: (config: Config, logger: unknown) => Promise<void>;
};

/** electron-builder's own config loader and validator (app-builder-lib, as installed). */
async function builderConfigModule(root: string): Promise<{ mod: ConfigModule; logger: unknown }> {
  const req = createRequire(join(root, 'package.json'));
  const configJs = req.resolve('app-builder-lib/out/util/config/config.js');
  const builderUtil = createRequire(configJs)('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
  return { mod: (await import(pathToFileURL(configJs).href)) as ConfigModule, logger: new builderUtil.DebugLogger(false) };
}

/** Validates a configuration against electron-builder's schema (scheme.json); [] when valid. */
export async function validateBuilderConfig(root: string, config: Config): Promise<string[]> {
  const { mod, logger } = await builderConfigModule(root);
  try {
    await mod.validateConfiguration(config, logger);
    return [];
  } catch (e) {
    return [`electron-builder.yml does not validate against electron-builder's schema: ${(e as Error).message.split('\n').slice(0, 4).join(' ')}`];
  }
}

/** Loads electron-builder.yml the way electron-builder does (getConfig) and validates it. */
export async function loadBuilderConfig(root: string): Promise<{ config: Config; problems: string[] }> {
  const { mod } = await builderConfigModule(root);
  const config = await mod.getConfig(root, null, null);
  return { config, problems: await validateBuilderConfig(root, config) };
}

export interface PackagingReport {
  problems: string[];
  /** What was checked, for the log. */
  checked: string[];
  config: Config;
}

export async function checkPackaging(root: string, opts: { compile?: boolean } = {}): Promise<PackagingReport> {
  const checked: string[] = [];
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Pkg;
  const { config, problems } = await loadBuilderConfig(root);
  checked.push('electron-builder.yml validates against app-builder-lib scheme.json');

  // Identity: changing either orphans installed copies (Windows uninstall key, macOS bundle id) and
  // moves the per-user data folder (electron/engine/paths.ts keys it on the product name).
  if (config.appId !== APP_ID) problems.push(`appId is ${String(config.appId)}, expected ${APP_ID}`);
  if (config.productName !== PRODUCT_NAME) problems.push(`productName is ${String(config.productName)}, expected ${PRODUCT_NAME}`);
  const paths = (await import(pathToFileURL(join(root, 'electron', 'engine', 'paths.ts')).href)) as { userDataDir: (env: NodeJS.ProcessEnv, platform: string) => string };
  for (const platform of ['linux', 'win32', 'darwin']) {
    const dir = paths.userDataDir({ APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, platform);
    if (basename(dir.replace(/\\/g, '/')) !== PRODUCT_NAME) problems.push(`userDataDir on ${platform} is ${dir}: not a folder named ${PRODUCT_NAME}, as Electron's app.getPath('userData') is`);
  }
  checked.push(`appId ${APP_ID}, productName ${PRODUCT_NAME}, per-user folder named after the product`);

  // Entry point and the files the build produces.
  const main = typeof config.extraMetadata?.main === 'string' ? config.extraMetadata.main : pkg.main;
  if (!main) problems.push('no main entry point (extraMetadata.main or package.json main)');
  else {
    if (pkg.main !== main) problems.push(`package.json main (${String(pkg.main)}) differs from extraMetadata.main (${main})`);
    const m = /^dist\/(.+)\.js$/.exec(main);
    if (!m || !existsSync(join(root, `${m[1]}.ts`))) problems.push(`main ${main} is not the compile output of a source file (dist/<path>.js from <path>.ts)`);
  }
  const preloadOut = /--outfile=(\S+)/.exec(pkg.scripts?.['build:electron'] ?? '')?.[1];
  if (!preloadOut) problems.push('build:electron does not bundle the preload (--outfile=...)');
  else if (!readFileSync(join(root, 'electron', 'main', 'main.ts'), 'utf8').includes(`'${basename(preloadOut)}'`)) {
    problems.push(`electron/main/main.ts does not load the bundled preload ${basename(preloadOut)}`);
  }
  const files = stringList(config.files);
  for (const f of [main, preloadOut, 'renderer/dist/index.html', 'package.json', ...WORKER_OUTPUTS.map((w) => `dist/${w}`)]) {
    if (f && !includedByFiles(files, f)) problems.push(`files does not include ${f}, which the app needs`);
  }
  // Per-user data never ships in (or is written into) the install folder.
  for (const f of ['models/medlam.onnx', 'models/manifest.json', 'delineate.sqlite', 'test/fixtures/models/x.onnx', '.scratch/x']) {
    if (includedByFiles(files, f)) problems.push(`files would package ${f}: models and databases live in the per-user data folder`);
  }
  checked.push(`files include ${main}, ${String(preloadOut)}, renderer/dist/index.html, the worker scripts; no models or databases`);

  // Scripts.
  const dist = pkg.scripts?.dist ?? '';
  const order = ['build:renderer', 'build:electron', 'electron-builder'].map((s) => dist.indexOf(s));
  if (order.some((i) => i < 0) || !(order[0]! < order[2]! && order[1]! < order[2]!)) problems.push(`npm script dist must build the renderer and main process, then run electron-builder (is: "${dist}")`);
  checked.push('npm run dist builds, then packages');

  // Native modules: unpacked ones must be production dependencies; native production dependencies
  // must be unpacked (a .node file inside app.asar cannot be dlopen'ed).
  const deps = pkg.dependencies ?? {};
  const devDeps = pkg.devDependencies ?? {};
  const unpack = stringList(config.asarUnpack);
  for (const pattern of unpack) {
    const m = /^node_modules\/((?:@[^/]+\/)?[^/]+)\/\*\*$/.exec(pattern);
    if (!m) continue;
    const re = globToRegExp(m[1]!);
    const names = Object.keys(deps).filter((d) => re.test(d));
    if (names.length === 0) problems.push(`asarUnpack ${pattern} matches no production dependency${Object.keys(devDeps).some((d) => re.test(d)) ? ' (it is a devDependency: not packaged)' : ''}`);
  }
  for (const d of Object.keys(deps)) {
    const dir = join(root, 'node_modules', d);
    if (!existsSync(dir) || !isNative(dir)) continue;
    if (!unpack.some((p) => globToRegExp(p).test(`node_modules/${d}/package.json`))) problems.push(`native dependency ${d} is not in asarUnpack`);
  }
  if (config.npmRebuild === false) problems.push('npmRebuild is false: native modules would keep the Node ABI instead of Electron\'s');
  if (deps.electron) problems.push('electron must be a devDependency (electron-builder refuses it in dependencies)');
  if (!devDeps.electron || !/^\d+\.\d+\.\d+$/.test(devDeps.electron)) problems.push(`electron devDependency must be an exact version (is ${String(devDeps.electron)})`);
  checked.push(`asarUnpack ${unpack.join(', ')}; native production dependencies unpacked; electron ${String(devDeps.electron)} exact`);

  // Fuses.
  const fuses = config.electronFuses ?? {};
  for (const [k, v] of Object.entries(REQUIRED_FUSES)) if (fuses[k] !== v) problems.push(`electronFuses.${k} must be ${v} (is ${String(fuses[k])})`);
  checked.push('electronFuses as required');

  // macOS signing inputs.
  const resources = config.directories?.buildResources ?? 'build';
  if (!existsSync(join(root, resources))) problems.push(`directories.buildResources ${resources} does not exist`);
  for (const e of [config.mac?.entitlements, config.mac?.entitlementsInherit]) {
    if (!e) continue;
    const f = join(root, e);
    if (!existsSync(f)) problems.push(`mac entitlements ${e} does not exist`);
    else if (!/<plist[\s\S]*<\/plist>\s*$/.test(readFileSync(f, 'utf8'))) problems.push(`mac entitlements ${e} is not a plist`);
  }
  checked.push('build resources and entitlements exist');

  if (opts.compile && main) {
    const out = mkdtempSync(join(tmpdir(), 'delineate-dist-'));
    try {
      const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
      const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'electron', 'main', 'tsconfig.build.json'), '--outDir', out], { cwd: root, encoding: 'utf8' });
      if (r.status !== 0) problems.push(`tsc -p electron/main/tsconfig.build.json failed:\n${(r.stdout + r.stderr).split('\n').slice(0, 20).join('\n')}`);
      else {
        for (const f of [main.replace(/^dist\//, ''), ...WORKER_OUTPUTS]) if (!existsSync(join(out, f))) problems.push(`compile did not emit ${f} (dist/${f} expected by the app)`);
      }
      checked.push('main-process compile succeeds and emits the entry point and workers');
      // The sandboxed preload can require only 'electron' (and a few Node built-ins Electron
      // polyfills): bundle it exactly as build:electron does and look at what it requires.
      const esbuildArgs = /esbuild (electron\/preload\/\S+ .*?)--outfile=\S+/.exec(pkg.scripts?.['build:electron'] ?? '')?.[1];
      if (!esbuildArgs) problems.push('build:electron has no esbuild step for the preload');
      else {
        // npm's own shim, as `npm run build:electron` would call it.
        const esbuild = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'esbuild.cmd' : 'esbuild');
        const outfile = join(out, 'preload.cjs');
        const b = spawnSync(esbuild, [...esbuildArgs.trim().split(/\s+/), `--outfile=${outfile}`, '--log-level=error'], { cwd: root, encoding: 'utf8' });
        if (b.status !== 0) problems.push(`preload bundle failed: ${b.stderr}`);
        else {
          const required = [...new Set([...readFileSync(outfile, 'utf8').matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]!))];
          const extra = required.filter((r) => r !== 'electron');
          if (extra.length > 0) problems.push(`the sandboxed preload requires ${extra.join(', ')}: only 'electron' is available to it`);
          checked.push(`preload bundles to CommonJS requiring only: ${required.join(', ')}`);
        }
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
  return { problems, checked, config };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const r = await checkPackaging(root, { compile: process.argv.includes('--compile') });
  for (const c of r.checked) console.log(`checked: ${c}`);
  for (const p of r.problems) console.error(`PROBLEM: ${p}`);
  process.exitCode = r.problems.length > 0 ? 1 : 0;
}
