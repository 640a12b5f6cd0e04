/**
 * Cohort evaluation of results already stored for a template set: for each series, its reference is
 * found in a folder (an RTSTRUCT whose referenced series is that series, or UID.nii.gz / UID.nii with
 * a names JSON) and the stored results are scored against it.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../store/db.js';
import { CancelledError, InputError, throwIfAborted } from '../errors.js';
import { readRtstruct } from '../rtstruct/read.js';
import { summarise, type CaseMetrics, type CohortSummaryRow } from './cohort-stats.js';
import { failureReason, type CohortSkip } from './cohort.js';
import type { EvaluateSetsOptions } from './evaluate-sets.js';
import { evaluateSeries } from './evaluate-series.js';

/** Series UID -> reference file, from a folder (RTSTRUCTs by their referenced series; label maps by name). */
export function referencesInFolder(dir: string, seriesUids: string[]): Map<string, string> {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (cause) {
    throw new InputError(`cannot read reference folder ${dir}: ${(cause as Error).message}`, { file: dir }, { cause });
  }
  const found = new Map<string, string>();
  for (const uid of seriesUids) {
    for (const ext of ['.nii.gz', '.nii']) {
      const f = join(dir, `${uid}${ext}`);
      if (existsSync(f)) found.set(uid, f);
    }
  }
  const wanted = new Set(seriesUids.filter((u) => !found.has(u)));
  if (wanted.size === 0) return found;
  for (const name of entries.sort()) {
    const f = join(dir, name);
    if (!statSync(f).isFile() || name.toLowerCase().endsWith('.nii') || name.toLowerCase().endsWith('.nii.gz') || name.endsWith('.json')) continue;
    let ref: string;
    try {
      ref = readRtstruct(f).referencedSeriesUid;
    } catch {
      continue; // not an RTSTRUCT: folders hold CT slices and other objects too
    }
    if (wanted.has(ref)) {
      if (found.has(ref)) {
        throw new InputError(`reference folder ${dir} holds two RTSTRUCTs for series ${ref}: ${found.get(ref)} and ${f}`, { file: dir, seriesUid: ref });
      }
      found.set(ref, f);
    }
  }
  return found;
}

export interface StoredCohortOptions extends EvaluateSetsOptions {
  setName: string;
  namesFile?: string;
  signal?: AbortSignal;
  log?(m: string): void;
}

export function evaluateStoredCohort(
  db: Db,
  seriesUids: string[],
  referenceDir: string,
  opts: StoredCohortOptions,
): { rows: CaseMetrics[]; summary: CohortSummaryRow[]; skipped: CohortSkip[] } {
  const refs = referencesInFolder(referenceDir, seriesUids);
  const rows: CaseMetrics[] = [];
  const skipped: CohortSkip[] = [];
  for (const uid of seriesUids) {
    throwIfAborted(opts.signal);
    const file = refs.get(uid);
    if (!file) {
      skipped.push({ caseId: uid, reason: `no reference for it in ${referenceDir} (an RTSTRUCT referencing it, or ${uid}.nii.gz)` });
      continue;
    }
    try {
      const report = evaluateSeries(db, {
        seriesUid: uid,
        referenceFile: file,
        ...(opts.namesFile ? { namesFile: opts.namesFile } : {}),
        templateSet: opts.setName,
        ...(opts.only ? { structures: opts.only } : {}),
        ...(opts.boxConvention ? { boxConvention: opts.boxConvention } : {}),
        ...(opts.toleranceMm !== undefined ? { toleranceMm: opts.toleranceMm } : {}),
      });
      for (const w of report.warnings) opts.log?.(`warning: ${w}`);
      for (const m of report.structures) rows.push({ caseId: uid, ...m });
      opts.log?.(`${uid}: ${report.structures.length} structures scored against ${file}`);
    } catch (e) {
      if (e instanceof CancelledError) throw e;
      skipped.push({ caseId: uid, reason: failureReason(e) });
    }
  }
  return { rows, summary: summarise(rows), skipped };
}
