/**
 * Template sets of any size (`template derive --from-archive` / `--labels-dir`): a clinic's archive
 * holds hundreds of past plans whose RTSTRUCTs already contain the set's organs. Every RTSTRUCT of
 * the archive whose ROI names map to the wanted structures (by name or by the TG-263 name export
 * gives it, rtstruct/names.ts) becomes template members on the series it references, one file at
 * a time through the per-scan path (derive.ts), each in its own transaction so a file that fails
 * leaves nothing half-stored. Files that do not map, reference no archived series, or fail are
 * skipped and reported with the reason. A folder of label maps works the same way, each file named
 * after the series it was drawn on (`<SeriesInstanceUID>.nii.gz`).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DelineateError, InputError } from '../errors.js';
import type { Db } from '../store/db.js';
import { getObjects, getSeries } from '../store/archive.js';
import { getTemplateSet } from '../store/templates.js';
import { deriveFromLabelFile } from '../service-derive.js';
import { deriveTemplatesFromRtstruct } from './derive.js';
import { exportNames } from './names.js';
import { readRtstruct } from './read.js';

export interface BulkDerived {
  file: string;
  seriesUid: string;
  structures: string[];
}

export interface BulkSkipped {
  file: string;
  seriesUid?: string;
  reason: string;
}

export interface BulkDeriveResult {
  set: string;
  derived: BulkDerived[];
  skipped: BulkSkipped[];
  warnings: string[];
}

/** The wanted structure names: given, else the set's own structures (a set must then exist). */
function wantedStructures(db: Db, set: string, structures: string[] | undefined): string[] {
  if (structures && structures.length > 0) return structures;
  let names: string[] = [];
  try {
    names = getTemplateSet(db, set).structures.map((s) => s.name);
  } catch (e) {
    if (!(e instanceof DelineateError && e.code === 'not-found')) throw e;
  }
  if (names.length === 0) throw new InputError(`template set '${set}' has no structures yet: name them with --structures A,B`, { templateSet: set });
  return names;
}

function reasonOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function deriveTemplatesFromArchive(db: Db, req: { set: string; structures?: string[]; site?: string }): BulkDeriveResult {
  const set = req.set.trim();
  const wanted = wantedStructures(db, set, req.structures);
  const keys = new Set(wanted.map((w) => w.toLowerCase()));
  const out: BulkDeriveResult = { set, derived: [], skipped: [], warnings: [] };
  for (const o of getObjects(db)) {
    if (o.modality !== 'RTSTRUCT') continue;
    const file = o.path;
    const seriesUid = o.referencedSeriesUid ?? undefined;
    if (!seriesUid) {
      out.skipped.push({ file, reason: 'references no image series' });
      continue;
    }
    try {
      getSeries(db, seriesUid);
    } catch {
      out.skipped.push({ file, seriesUid, reason: `references series ${seriesUid}, which is not in the archive` });
      continue;
    }
    let rois: string[];
    try {
      rois = readRtstruct(file).structures.map((s) => s.name);
    } catch (e) {
      out.skipped.push({ file, seriesUid, reason: reasonOf(e) });
      continue;
    }
    const mapped = exportNames(rois).names;
    const matched = rois.filter((r, i) => keys.has(r.toLowerCase()) || keys.has(mapped[i]!.toLowerCase()));
    if (matched.length === 0) {
      out.skipped.push({ file, seriesUid, reason: `no ROI maps to ${wanted.join(', ')} (it has ${rois.join(', ') || 'none'})` });
      continue;
    }
    try {
      const r = db.transaction(() =>
        deriveTemplatesFromRtstruct(db, { set, seriesUid, file, structures: matched, ...(req.site ? { site: req.site } : {}) }),
      )();
      out.derived.push({ file, seriesUid, structures: r.structures.map((s) => s.name) });
      for (const w of r.warnings) out.warnings.push(`${file}: ${w}`);
    } catch (e) {
      out.skipped.push({ file, seriesUid, reason: reasonOf(e) });
    }
  }
  return out;
}

/** Label maps `<SeriesInstanceUID>.nii[.gz]` in `dir`, values named by `names` (label value -> name). */
export async function deriveTemplatesFromLabelDir(
  db: Db,
  req: { set: string; dir: string; names: Record<string, string>; structures?: string[] },
): Promise<BulkDeriveResult> {
  const set = req.set.trim();
  const out: BulkDeriveResult = { set, derived: [], skipped: [], warnings: [] };
  let files: string[];
  try {
    files = readdirSync(req.dir).filter((f) => /\.nii(\.gz)?$/.test(f)).sort();
  } catch (e) {
    throw new InputError(`label folder ${req.dir} is not readable: ${reasonOf(e)}`, { file: req.dir });
  }
  for (const f of files) {
    const file = join(req.dir, f);
    const seriesUid = f.replace(/\.nii(\.gz)?$/, '');
    let series;
    try {
      series = getSeries(db, seriesUid);
    } catch {
      out.skipped.push({ file, reason: `no series ${seriesUid} in the archive (name each label map after its series UID)` });
      continue;
    }
    try {
      const r = await deriveFromLabelFile(db, { set, seriesUid, labelsPath: file, names: req.names, series, ...(req.structures?.length ? { structures: req.structures } : {}) });
      out.derived.push({ file, seriesUid, structures: r.map((s) => s.name) });
    } catch (e) {
      out.skipped.push({ file, seriesUid, reason: reasonOf(e) });
    }
  }
  return out;
}
