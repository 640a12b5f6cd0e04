/**
 * A cluster work package: a folder on a shared filesystem that a compute node can process without
 * the archive it came from. Layout (every path relative to the package folder):
 *
 *   manifest.json              what to do (template set, mode, backends and model hashes, shards) and
 *                              the sha256 of every input file
 *   inputs.sqlite              archive rows of the package's series and template scans (instance
 *                              paths relative to the package), the template set with its masks
 *   files/<n>/...              the series' DICOM / NIfTI files, copied
 *   shards/<k>/work.sqlite     the shard's results database (created by `cluster work`)
 *   shards/<k>/result.json     written when shard k has finished: host, counts, sha256 of work.sqlite
 *   logs/shard-<k>.log         scheduler logs (`cluster submit`)
 *   slurm/                     sbatch scripts and the submissions made
 *
 * A shard's result names the package id and the sha256 of the manifest it worked from, so an import
 * refuses results that belong to another package or to an altered manifest, and a shard database
 * changed after it finished (its sha256 no longer matches).
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DelineateError, InputError } from '../errors.js';
import type { ModelRef } from '../localize/localizer.js';
import type { Mode } from '../jobs/types.js';

export const PACKAGE_FORMAT = 'delineate-cluster-package';
export const RESULT_FORMAT = 'delineate-cluster-shard-result';

export interface PackageFile {
  path: string;
  sha256: string;
  size: number;
}

export interface PackageSeries {
  seriesUid: string;
  /** Files of this series (relative paths), all listed in `files`. */
  files: string[];
}

export interface PackageManifest {
  format: typeof PACKAGE_FORMAT;
  version: 1;
  id: string;
  createdAt: string;
  createdOn: string;
  templateSet: string;
  mode: Mode;
  /** The backends the export chose; every shard must load the same (names and model hashes). */
  backend: { requested: string | null; localizer: string; segmenter: string; models: ModelRef[] };
  templateSeries: PackageSeries[];
  shards: { index: number; series: PackageSeries[] }[];
  /** Every input file with its checksum, inputs.sqlite included. */
  files: PackageFile[];
  /**
   * Present when the package was de-identified (deid.ts): the profile applied. Its series UIDs are
   * then pseudonyms that only the exporting archive can map back (merge.ts).
   */
  deidentified?: { method: string; modifiedDates: boolean };
}

export interface ShardResultItem {
  seriesUid: string;
  status: 'done' | 'failed' | 'pending' | 'running';
  host: string;
  job: string;
  error?: string;
}

export interface ShardResult {
  format: typeof RESULT_FORMAT;
  packageId: string;
  manifestSha256: string;
  shard: number;
  host: string;
  job: string;
  finishedAt: string;
  workDbSha256: string;
  done: number;
  failed: number;
  items: ShardResultItem[];
}

export const MANIFEST = 'manifest.json';
export const INPUTS_DB = 'inputs.sqlite';

export function shardDir(dir: string, k: number): string {
  return join(dir, 'shards', String(k));
}
export function workDbPath(dir: string, k: number): string {
  return join(shardDir(dir, k), 'work.sqlite');
}
export function resultPath(dir: string, k: number): string {
  return join(shardDir(dir, k), 'result.json');
}
export function logPath(dir: string, k: number): string {
  return join(dir, 'logs', `shard-${k}.log`);
}

export function sha256File(file: string): string {
  const h = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

export function sha256Text(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface LoadedManifest {
  manifest: PackageManifest;
  /** sha256 of manifest.json as stored: a shard's result must name the same. */
  sha256: string;
}

/** Reads and checks the shape of DIR/manifest.json. */
export function readManifest(dir: string): LoadedManifest {
  const file = join(dir, MANIFEST);
  if (!existsSync(file)) throw new InputError(`${dir} is not a cluster package: ${MANIFEST} is missing`, { file });
  const text = readFileSync(file);
  let m: PackageManifest;
  try {
    m = JSON.parse(text.toString('utf8')) as PackageManifest;
  } catch (e) {
    throw new InputError(`cluster package manifest ${file} is not valid JSON: ${(e as Error).message}`, { file });
  }
  if (m.format !== PACKAGE_FORMAT || m.version !== 1) {
    throw new InputError(`cluster package manifest ${file} has format ${String(m.format)} version ${String(m.version)}; expected ${PACKAGE_FORMAT} version 1`, { file });
  }
  if (!Array.isArray(m.shards) || !Array.isArray(m.files) || typeof m.id !== 'string' || typeof m.templateSet !== 'string') {
    throw new InputError(`cluster package manifest ${file} lacks shards, files, id or templateSet`, { file });
  }
  return { manifest: m, sha256: sha256Text(text) };
}

export function shardOf(m: PackageManifest, k: number, dir: string): PackageManifest['shards'][number] {
  const s = m.shards.find((x) => x.index === k);
  if (!s) throw new InputError(`cluster package ${dir} has no shard ${k} (shards 0 to ${m.shards.length - 1})`, { file: join(dir, MANIFEST) });
  return s;
}

/**
 * Checks the named input files against the manifest's checksums; throws naming the first file that
 * is missing or differs (a partial copy to the shared filesystem, a file changed since export).
 */
export function verifyFiles(dir: string, m: PackageManifest, paths: Iterable<string>, what: string): void {
  const byPath = new Map(m.files.map((f) => [f.path, f]));
  for (const p of paths) {
    const f = byPath.get(p);
    if (!f) throw new DelineateError('conflict', `${what}: file ${p} is not listed in the manifest of package ${dir}`, { file: join(dir, p) });
    const abs = join(dir, p);
    if (!existsSync(abs)) throw new DelineateError('conflict', `${what}: package file ${abs} is missing`, { file: abs });
    if (statSync(abs).size !== f.size || sha256File(abs) !== f.sha256) {
      throw new DelineateError('conflict', `${what}: package file ${abs} does not match its checksum in the manifest`, { file: abs });
    }
  }
}

/** The files shard k reads: inputs.sqlite, its series, the template scans. */
export function shardInputFiles(m: PackageManifest, k: number, dir: string): string[] {
  const shard = shardOf(m, k, dir);
  return [INPUTS_DB, ...shard.series.flatMap((s) => s.files), ...m.templateSeries.flatMap((s) => s.files)];
}

/** The shard's result.json when present and well-formed, else undefined (not finished). */
export function readShardResult(dir: string, k: number): ShardResult | undefined {
  const file = resultPath(dir, k);
  if (!existsSync(file)) return undefined;
  let r: ShardResult;
  try {
    r = JSON.parse(readFileSync(file, 'utf8')) as ShardResult;
  } catch (e) {
    throw new DelineateError('conflict', `shard ${k} of package ${dir}: ${file} is not valid JSON (${(e as Error).message})`, { file, shard: k });
  }
  if (r.format !== RESULT_FORMAT) throw new DelineateError('conflict', `shard ${k} of package ${dir}: ${file} is not a shard result`, { file, shard: k });
  return r;
}
