/**
 * The models folder: ONNX files plus `manifest.json` naming each file, its sha256, its role, its
 * input/output names and the constants of the method (DESIGN.md "Models": constants belong in the
 * manifest, not in code). Weights are never shipped or downloaded by the application, so the user
 * places them; a missing or altered file is refused with a message naming it (ModelError), never a
 * crash deep inside ONNX Runtime.
 *
 * manifest.json:
 * {
 *   "format": 1,
 *   "models": [
 *     { "name": "medlam", "role": "medlam-full", "file": "medlam.onnx", "sha256": "<64 hex>",
 *       "inputs": ["x"], "outputs": ["fc_position", "feature0", "feature1", "feature2"],
 *       "precision": "fp32", "constants": { ...MedlamConstants (localize/constants.ts) } },
 *     { "name": "medlam-fc", "role": "medlam-fc", ... "outputs": ["fc_position"] },
 *     { "name": "sam-encoder-fp16", "role": "sam-encoder", "precision": "fp16",
 *       "executionProviders": ["cuda", "dml", "coreml"], ... },
 *     { "name": "sam-encoder", "role": "sam-encoder", ... }
 *   ],
 *   "executionProviders": ["cuda", "cpu"]
 * }
 *
 * Several entries may share a role: the first one (in file order) whose `executionProviders` lists
 * the provider the sessions will use, or that has no such list, is the one used (selectModel). So a
 * float16 encoder listed for GPU providers ahead of the float32 one is used on a GPU and skipped on
 * CPU. The top-level `executionProviders` orders the providers to try for this folder (the default
 * is CUDA, DirectML, CoreML, then CPU); DELINEATE_EP still overrides it.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { ModelError } from '../errors.js';

/** ONNX Runtime execution providers Delineate knows, in its default order of preference. */
export const EXECUTION_PROVIDERS = ['cuda', 'dml', 'coreml', 'cpu'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

/** Known roles; other strings are allowed so that new backends need no change here. */
export type ModelRole = 'medlam-full' | 'medlam-fc' | 'sam-encoder' | 'sam-decoder' | (string & {});

export interface ModelEntry {
  name: string;
  role: ModelRole;
  /** Relative to the models folder. */
  file: string;
  sha256: string;
  inputs: string[];
  outputs: string[];
  /** Arithmetic of the graph: fp16 graphs compute in half precision (models/export/to_fp16.py). */
  precision?: 'fp32' | 'fp16';
  /** Providers this file is meant for; absent: any. See selectModel. */
  executionProviders?: ExecutionProvider[];
  /** Method constants (patch size, spacing, distance ratio, normalisation points, ...). */
  constants?: Record<string, unknown>;
}

export interface ModelManifest {
  /** Absolute path of the models folder. */
  dir: string;
  format: number;
  models: ModelEntry[];
  /** This folder's order of preference for execution providers (absent: EXECUTION_PROVIDERS). */
  executionProviders?: ExecutionProvider[];
}

export interface ModelCheck {
  name: string;
  file: string;
  sha256: string;
  ok: boolean;
  problem?: string;
}

export const MANIFEST_FILE = 'manifest.json';

/** Parses and validates the manifest's shape without hashing anything. */
export function readManifest(dir: string): ModelManifest {
  const abs = resolve(dir);
  const path = join(abs, MANIFEST_FILE);
  if (!existsSync(path)) throw new ModelError(`no ${MANIFEST_FILE} in models folder ${abs}`, { file: path });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new ModelError(`cannot parse ${path}: ${(cause as Error).message}`, { file: path }, { cause });
  }
  if (typeof raw !== 'object' || raw === null || !Array.isArray((raw as { models?: unknown }).models)) {
    throw new ModelError(`${path} must be an object with a "models" array`, { file: path });
  }
  const r = raw as { format?: unknown; models: unknown[]; executionProviders?: unknown };
  const models = r.models.map((m, i) => parseEntry(m, `${path} models[${i}]`));
  const eps = r.executionProviders === undefined ? undefined : parseProviders(r.executionProviders, path);
  const names = new Set<string>();
  for (const m of models) {
    if (names.has(m.name)) throw new ModelError(`${path}: model name "${m.name}" appears twice`, { file: path });
    names.add(m.name);
  }
  return { dir: abs, format: typeof r.format === 'number' ? r.format : 1, models, ...(eps ? { executionProviders: eps } : {}) };
}

function parseProviders(v: unknown, where: string): ExecutionProvider[] {
  const known: readonly string[] = EXECUTION_PROVIDERS;
  if (!Array.isArray(v) || v.length === 0 || !v.every((p) => typeof p === 'string' && known.includes(p))) {
    throw new ModelError(`${where}: "executionProviders" must be a non-empty array of ${EXECUTION_PROVIDERS.join(', ')}, got ${JSON.stringify(v)}`);
  }
  if (new Set(v).size !== v.length) throw new ModelError(`${where}: "executionProviders" lists a provider twice: ${JSON.stringify(v)}`);
  return v as ExecutionProvider[];
}

function parseEntry(m: unknown, where: string): ModelEntry {
  if (typeof m !== 'object' || m === null) throw new ModelError(`${where} is not an object`);
  const o = m as Record<string, unknown>;
  const str = (k: string): string => {
    const v = o[k];
    if (typeof v !== 'string' || v === '') throw new ModelError(`${where}: "${k}" must be a non-empty string`);
    return v;
  };
  const strs = (k: string): string[] => {
    const v = o[k];
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
      throw new ModelError(`${where}: "${k}" must be an array of strings`);
    }
    return v as string[];
  };
  const sha256 = str('sha256').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new ModelError(`${where}: "sha256" must be 64 hex digits`);
  const file = str('file');
  if (file.includes('..') || file.startsWith('/') || file.includes('\\')) {
    throw new ModelError(`${where}: "file" must be a plain name inside the models folder, got ${file}`);
  }
  const precision = o.precision;
  if (precision !== undefined && precision !== 'fp32' && precision !== 'fp16') {
    throw new ModelError(`${where}: "precision" must be fp32 or fp16`);
  }
  const eps = o.executionProviders === undefined ? undefined : parseProviders(o.executionProviders, where);
  const constants = o.constants;
  if (constants !== undefined && (typeof constants !== 'object' || constants === null || Array.isArray(constants))) {
    throw new ModelError(`${where}: "constants" must be an object`);
  }
  return {
    name: str('name'),
    role: str('role'),
    file,
    sha256,
    inputs: strs('inputs'),
    outputs: strs('outputs'),
    ...(precision !== undefined ? { precision } : {}),
    ...(eps ? { executionProviders: eps } : {}),
    ...(constants !== undefined ? { constants: constants as Record<string, unknown> } : {}),
  };
}

// Hashing a few hundred MB takes a second or two; remember results per (path, size, mtime).
const hashCache = new Map<string, string>();

/** sha256 of a file, read in 4 MB chunks so large models never sit in memory twice. */
export function sha256File(path: string): string {
  const st = statSync(path);
  const key = `${path}\0${st.size}\0${st.mtimeMs}`;
  const hit = hashCache.get(key);
  if (hit) return hit;
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(4 << 20);
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      h.update(n === buf.length ? buf : buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  const digest = h.digest('hex');
  hashCache.set(key, digest);
  return digest;
}

export function modelPath(manifest: ModelManifest, entry: ModelEntry): string {
  return join(manifest.dir, entry.file);
}

/** Checks every file of the manifest; never throws for a bad file (that is what `models check` reports). */
export function checkModels(manifest: ModelManifest): ModelCheck[] {
  return manifest.models.map((m) => {
    const p = modelPath(manifest, m);
    const base = { name: m.name, file: m.file, sha256: m.sha256 };
    if (!existsSync(p)) return { ...base, ok: false, problem: `file ${p} is missing` };
    const got = sha256File(p);
    if (got !== m.sha256) {
      return { ...base, ok: false, problem: `file ${p} has sha256 ${got}, the manifest expects ${m.sha256}` };
    }
    return { ...base, ok: true };
  });
}

/** Reads the manifest and verifies every file's sha256; throws ModelError naming the first bad file. */
export function loadManifest(dir: string): ModelManifest {
  const manifest = readManifest(dir);
  for (const c of checkModels(manifest)) {
    if (!c.ok) throw new ModelError(`model ${c.name}: ${c.problem ?? 'failed verification'}`, { model: c.name, file: c.file });
  }
  return manifest;
}

export function findModel(manifest: ModelManifest, role: ModelRole): ModelEntry | undefined {
  return manifest.models.find((m) => m.role === role);
}

export function requireModel(manifest: ModelManifest, role: ModelRole): ModelEntry {
  const m = findModel(manifest, role);
  if (!m) throw new ModelError(`models folder ${manifest.dir} has no model with role ${role}`, { file: join(manifest.dir, MANIFEST_FILE) });
  return m;
}

/**
 * The entry of a role for sessions running on `provider`: the first, in manifest order, whose
 * `executionProviders` lists it or that has none. Undefined when the role is absent; a ModelError
 * naming the manifest when the role is present but every entry is meant for other providers.
 */
export function selectModel(manifest: ModelManifest, role: ModelRole, provider: ExecutionProvider): ModelEntry | undefined {
  const all = manifest.models.filter((m) => m.role === role);
  if (all.length === 0) return undefined;
  const m = all.find((e) => !e.executionProviders || e.executionProviders.includes(provider));
  if (!m) {
    const listed = all.map((e) => `${e.name} (${e.precision ?? 'fp32'}: ${e.executionProviders!.join(', ')})`).join('; ');
    throw new ModelError(
      `${join(manifest.dir, MANIFEST_FILE)}: no ${role} model for the ${provider} execution provider (entries: ${listed}); add one without "executionProviders" or listing ${provider}`,
      { file: join(manifest.dir, MANIFEST_FILE) },
    );
  }
  return m;
}

/** selectModel for a role the backend cannot do without. */
export function requireSelected(manifest: ModelManifest, role: ModelRole, provider: ExecutionProvider): ModelEntry {
  const m = selectModel(manifest, role, provider);
  if (!m) throw new ModelError(`models folder ${manifest.dir} has no model with role ${role}`, { file: join(manifest.dir, MANIFEST_FILE) });
  return m;
}
