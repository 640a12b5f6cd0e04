/**
 * `cluster export`: writes a self-contained work package (package.ts) for a template set over some
 * series of the archive. The series' files are copied (a compute node may not see the archive's
 * folders), their archive rows go into inputs.sqlite with paths relative to the package, and the
 * backends are chosen here so that every shard can be held to the same names and model hashes: a
 * node with other model files must refuse rather than mix results of two models in one campaign.
 *
 * With `deidentify` the package carries no identifiers (deid.ts): every DICOM file is de-identified
 * with the project's pseudonyms (DICOM PS3.15 Annex E, Basic Profile) and inputs.sqlite holds the
 * same pseudonyms and nothing else about the patient; the mapping stays in this archive, which is
 * the only one that can import the package's results back (merge.ts maps the pseudonyms home).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { hostname } from 'node:os';
import type { Db } from '../store/db.js';
import { openDatabase } from '../store/db.js';
import { InputError, NotFoundError } from '../errors.js';
import { copyFileAtomic, storageError, writeFileAtomic } from '../fs/atomic.js';
import { packageDeidentifier, type PackageDeidOptions, type PackageDeidentifier } from './deid.js';
import { selectBackends } from '../backends.js';
import { resolveSeries } from '../jobs/runs.js';
import type { Mode } from '../jobs/types.js';
import { INPUTS_DB, MANIFEST, PACKAGE_FORMAT, sha256File, type PackageFile, type PackageManifest, type PackageSeries } from './package.js';

export interface ExportPackageRequest {
  templateSet: string;
  series: string[] | 'all';
  dir: string;
  shards: number;
  mode?: Mode;
  modelsDir?: string;
  backend?: string;
  /** De-identify what the package carries (deid.ts); the pseudonyms of `project` (default 'default'). */
  deidentify?: PackageDeidOptions;
}

export interface ExportPackageResult {
  dir: string;
  packageId: string;
  templateSet: string;
  backend: PackageManifest['backend'];
  shards: { index: number; series: string[] }[];
  files: number;
  bytes: number;
  /** True when the package was de-identified: series UIDs here are then the pseudonyms it carries. */
  deidentified: boolean;
}

interface SeriesRow {
  series_uid: string;
  study_uid: string;
}

/**
 * Copies one series' files into files/<n>/ (de-identified, under counter names, when `deid` is
 * given) and returns their manifest entries, in slice order.
 */
function copySeries(db: Db, dir: string, n: number, seriesUid: string, files: PackageFile[], deid: PackageDeidentifier | undefined): PackageSeries {
  const rows = db
    .prepare('SELECT sop_instance_uid, path FROM instances WHERE series_uid = ? ORDER BY slice_index, sop_instance_uid')
    .all(seriesUid) as { sop_instance_uid: string; path: string }[];
  if (rows.length === 0) throw new InputError(`series ${seriesUid} has no files in the archive; it cannot be packaged`, { seriesUid });
  const rel = `files/${n}`;
  mkdirSync(join(dir, rel), { recursive: true });
  const out: string[] = [];
  rows.forEach((r, i) => {
    if (!existsSync(r.path)) throw new NotFoundError(`series ${seriesUid}: file ${r.path} listed in the archive is missing`, { seriesUid, file: r.path });
    // The index keeps names unique when a series' files came from several folders; a de-identified
    // package never carries the source's file names (they may hold names or IDs).
    const p = deid ? `${rel}/${i}.dcm` : `${rel}/${i}_${basename(r.path)}`;
    if (deid) writeFileAtomic(join(dir, p), deid.instance(r.path, seriesUid, r.sop_instance_uid), { operation: 'cluster export (de-identified)' });
    // A reflink where the filesystem offers one, else a plain copy.
    else copyFileAtomic(r.path, join(dir, p), { operation: 'cluster export' });
    files.push({ path: p, sha256: sha256File(join(dir, p)), size: statSync(join(dir, p)).size });
    out.push(p);
  });
  return { seriesUid: deid ? deid.uid(seriesUid) : seriesUid, files: out };
}

/**
 * Writes inputs.sqlite: the archive rows of `series` (patients, studies, series, instances with the
 * package-relative paths), the structures and the template set with its members and masks.
 */
function writeInputsDb(src: Db, file: string, templateSet: string, series: { archiveUid: string; files: string[] }[], deid: PackageDeidentifier | undefined): void {
  const out = openDatabase(file);
  // De-identified: every row passes through the profile's rules for the archive's columns (deid.ts).
  const clean = (table: string, row: Record<string, unknown>): Record<string, unknown> => (deid ? deid.row(table, row) : row);
  try {
    out.transaction(() => {
      const pathOf = new Map<string, string>();
      for (const s of series) {
        const rows = src.prepare('SELECT sop_instance_uid FROM instances WHERE series_uid = ? ORDER BY slice_index, sop_instance_uid').all(s.archiveUid) as {
          sop_instance_uid: string;
        }[];
        rows.forEach((r, i) => pathOf.set(r.sop_instance_uid, s.files[i]!));
      }
      const uids = series.map((s) => s.archiveUid);
      const seriesRows = uids.map((u) => src.prepare('SELECT * FROM series WHERE series_uid = ?').get(u) as SeriesRow & Record<string, unknown>);
      const studies = [...new Set(seriesRows.map((r) => r.study_uid))].map((u) => src.prepare('SELECT * FROM studies WHERE study_uid = ?').get(u) as Record<string, unknown>);
      const patients = [...new Set(studies.map((s) => s.patient_ref as number))].map((id) => src.prepare('SELECT * FROM patients WHERE id = ?').get(id) as Record<string, unknown>);
      const insert = (table: string, row: Record<string, unknown>): void => {
        const cols = Object.keys(row);
        out.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`).run(clean(table, row));
      };
      patients.forEach((r) => insert('patients', r));
      studies.forEach((r) => insert('studies', r));
      seriesRows.forEach((r) => insert('series', r));
      for (const u of uids) {
        for (const r of src.prepare('SELECT * FROM instances WHERE series_uid = ?').all(u) as Record<string, unknown>[]) {
          const path = pathOf.get(r.sop_instance_uid as string)!;
          insert('instances', { ...r, path, ...(deid ? { file_size: statSync(join(file, '..', path)).size } : {}) });
        }
      }
      const set = src.prepare('SELECT id, name, site, created_at FROM template_sets WHERE name = ?').get(templateSet) as Record<string, unknown>;
      for (const r of src.prepare('SELECT * FROM structures WHERE name IN (SELECT structure FROM template_members WHERE set_id = ?)').all(set.id) as Record<string, unknown>[]) {
        insert('structures', r);
      }
      insert('template_sets', set);
      for (const r of src.prepare('SELECT * FROM template_members WHERE set_id = ?').all(set.id) as Record<string, unknown>[]) insert('template_members', r);
    })();
    // One self-contained file (no -wal beside it), so that its checksum means what it says.
    out.pragma('journal_mode = DELETE');
    // No freed page may keep a value that a cleaned row replaced.
    if (deid) out.exec('VACUUM');
  } catch (cause) {
    throw storageError('cluster export', file, cause);
  } finally {
    out.close();
  }
}

export async function exportPackage(db: Db, req: ExportPackageRequest): Promise<ExportPackageResult> {
  if (!Number.isInteger(req.shards) || req.shards < 1) throw new InputError(`--shards must be a positive integer, not ${req.shards}`);
  if (existsSync(req.dir) && readdirSync(req.dir).length > 0) {
    throw new InputError(`package folder ${req.dir} exists and is not empty; choose a new folder (a package is never overwritten)`, { file: req.dir });
  }
  const set = db.prepare('SELECT id FROM template_sets WHERE name = ?').get(req.templateSet) as { id: number } | undefined;
  if (!set) throw new NotFoundError(`template set '${req.templateSet}' does not exist`, { templateSet: req.templateSet });
  const templateUids = (db.prepare('SELECT DISTINCT series_uid FROM template_members WHERE set_id = ? ORDER BY series_uid').all(set.id) as { series_uid: string }[]).map(
    (r) => r.series_uid,
  );
  if (templateUids.length === 0) throw new InputError(`template set '${req.templateSet}' has no members`, { templateSet: req.templateSet });
  const queries = resolveSeries(db, set.id, req.series, req.templateSet).filter((u) => !templateUids.includes(u));
  if (queries.length === 0) throw new InputError(`no series to package for template set '${req.templateSet}' (its template scans are not processed)`, { templateSet: req.templateSet });
  if (req.shards > queries.length) throw new InputError(`--shards ${req.shards} is more than the ${queries.length} series to process`);

  const chosen = await selectBackends({
    ...(req.modelsDir !== undefined ? { modelsDir: req.modelsDir } : {}),
    ...(req.backend !== undefined ? { backend: req.backend } : {}),
  });
  const backend = {
    requested: req.backend ?? null,
    localizer: chosen.localizer.name,
    segmenter: chosen.segmenter.name,
    models: [...chosen.localizer.models(), ...chosen.segmenter.models()],
  };

  const deid = req.deidentify ? packageDeidentifier(db, req.deidentify) : undefined;
  const created = !existsSync(req.dir);
  mkdirSync(req.dir, { recursive: true });
  try {
    return writePackage(db, req, { templateUids, queries, backend, deid });
  } catch (e) {
    // The folder was new or empty: a failed export (a full disk) leaves it as it found it, so the
    // same command succeeds once the cause is gone.
    if (created) rmSync(req.dir, { recursive: true, force: true });
    else for (const f of readdirSync(req.dir)) rmSync(join(req.dir, f), { recursive: true, force: true });
    throw e;
  }
}

function writePackage(
  db: Db,
  req: ExportPackageRequest,
  ctx: { templateUids: string[]; queries: string[]; backend: PackageManifest['backend']; deid: PackageDeidentifier | undefined },
): ExportPackageResult {
  const { templateUids, queries, backend, deid } = ctx;
  const files: PackageFile[] = [];
  const all = [...templateUids, ...queries];
  if (deid) for (const uid of all) deid.check(uid);
  const packaged = new Map(all.map((uid, n) => [uid, copySeries(db, req.dir, n, uid, files, deid)]));
  // Written under a temporary name: a package whose inputs.sqlite exists is past this step.
  const inputsTmp = join(req.dir, `${INPUTS_DB}.partial`);
  rmSync(inputsTmp, { force: true });
  writeInputsDb(db, inputsTmp, req.templateSet, [...packaged].map(([archiveUid, p]) => ({ archiveUid, files: p.files })), deid);
  try {
    renameSync(inputsTmp, join(req.dir, INPUTS_DB));
  } catch (cause) {
    throw storageError('cluster export', join(req.dir, INPUTS_DB), cause);
  }
  files.unshift({ path: INPUTS_DB, sha256: sha256File(join(req.dir, INPUTS_DB)), size: statSync(join(req.dir, INPUTS_DB)).size });

  // Round robin keeps shards within one series of each other in size.
  const shards = Array.from({ length: req.shards }, (_, index) => ({
    index,
    series: queries.filter((_, i) => i % req.shards === index).map((u) => packaged.get(u)!),
  }));
  const manifest: PackageManifest = {
    format: PACKAGE_FORMAT,
    version: 1,
    id: randomUUID(),
    createdAt: new Date().toISOString(),
    // The exporting workstation's name is the hospital's, not the partner's business.
    createdOn: deid ? '' : hostname(),
    ...(deid ? { deidentified: deid.description } : {}),
    templateSet: req.templateSet,
    mode: req.mode ?? 'wpl',
    backend,
    templateSeries: templateUids.map((u) => packaged.get(u)!),
    shards,
    files,
  };
  // Written last and atomically: a package with a manifest is complete.
  writeFileAtomic(join(req.dir, MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`, { operation: 'cluster export' });
  return {
    dir: req.dir,
    packageId: manifest.id,
    templateSet: req.templateSet,
    backend,
    shards: shards.map((s) => ({ index: s.index, series: s.series.map((x) => x.seriesUid) })),
    files: files.length,
    bytes: files.reduce((a, f) => a + f.size, 0),
    deidentified: deid !== undefined,
  };
}
