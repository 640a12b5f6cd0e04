/**
 * `delineate template derive --set NAME --series UID (--rtstruct FILE | --labels FILE --names FILE)
 * [--structures A,B]`: template members from contours a clinic already has, with the MedLAM
 * reference's extreme-point rule. JSON: `{set, structures:[{name, points}]}`; warnings go to stderr.
 *
 * In bulk (rtstruct/derive-bulk.ts): `--from-archive` takes every archived RTSTRUCT whose ROI names
 * map to the set's structures (or --structures), `--labels-dir DIR --names FILE` every label map
 * `<SeriesInstanceUID>.nii.gz` in DIR. JSON: `{set, derived:[{file, seriesUid, structures}],
 * skipped:[{file, seriesUid?, reason}]}`; each skipped file is also reported on stderr.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../../engine/errors.js';
import { deriveTemplatesFromRtstruct } from '../../engine/rtstruct/derive.js';
import { deriveFromLabelFile } from '../../engine/service-derive.js';
import { deriveTemplatesFromArchive, deriveTemplatesFromLabelDir, type BulkDeriveResult } from '../../engine/rtstruct/derive-bulk.js';
import { getSeries } from '../../engine/store/archive.js';
import { list, req, str } from '../args.js';
import type { Command } from '../command.js';
import { flagTemplateOutliers } from '../../engine/store/template-outliers.js';

export function readNamesFile(file: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(`names file ${file} is not readable JSON: ${(e as Error).message}`, { file });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InputError(`names file ${file} must be a JSON object {value: name}`, { file });
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v !== 'string' || !v.trim()) throw new InputError(`names file ${file}: label ${k} has no name`, { file });
    out[k] = v;
  }
  return out;
}

export const templateDeriveCommand: Command = {
  path: ['template', 'derive'],
  summary: 'derive template members from an RTSTRUCT or a label map on a series',
  usage:
    'delineate template derive --set NAME (--series UID (--rtstruct FILE | --labels FILE --names FILE) | --from-archive | --labels-dir DIR --names FILE) [--structures A,B] [--db FILE] [--json]',
  flags: {
    set: { type: 'string', description: 'template set name' },
    series: { type: 'string', description: 'series instance UID the contours were drawn on' },
    rtstruct: { type: 'string', description: 'RTSTRUCT file referencing the series' },
    labels: { type: 'string', description: 'NIfTI label map on the series' },
    names: { type: 'string', description: 'JSON file mapping label values to structure names' },
    structures: { type: 'list', description: 'only these structures (comma-separated or repeated)' },
    'from-archive': { type: 'boolean', description: "every archived RTSTRUCT whose ROI names map to the set's structures (or --structures)" },
    'labels-dir': { type: 'string', description: 'folder of label maps named <SeriesInstanceUID>.nii.gz (with --names)' },
  },
  async run(args, ctx) {
    const set = req(args, 'set');
    const structures = list(args, 'structures')
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter(Boolean);
    const labelsDir = str(args, 'labels-dir');
    if (args.flags.get('from-archive') === true || labelsDir) {
      if (args.flags.has('series') || args.flags.has('rtstruct') || args.flags.has('labels')) {
        throw new InputError('--from-archive and --labels-dir derive many scans at once: give no --series, --rtstruct or --labels');
      }
      if (args.flags.get('from-archive') === true && labelsDir) throw new InputError('give one of --from-archive or --labels-dir DIR');
      const db = ctx.db();
      const r: BulkDeriveResult = labelsDir
        ? await deriveTemplatesFromLabelDir(db, { set, dir: labelsDir, names: readNamesFile(req(args, 'names')), ...(structures.length ? { structures } : {}) })
        : deriveTemplatesFromArchive(db, { set, ...(structures.length ? { structures } : {}) });
      for (const w of r.warnings) ctx.log(`warning: ${w}`);
      for (const sk of r.skipped) ctx.log(`skipped ${sk.file}: ${sk.reason}`);
      ctx.log(`derived ${r.derived.length} scan(s), skipped ${r.skipped.length}`);
      if (r.derived.length > 0) {
        const flagged = flagTemplateOutliers(db, set.trim());
        for (const f of flagged) ctx.log(`outlier ${f.structure} on ${f.seriesUid}${f.kept ? ' (kept)' : ', left out of atlas fusion'}: ${f.reasons.join('; ')}`);
        return { ...r, outliers: flagged };
      }
      return { ...r, outliers: [] };
    }
    const seriesUid = req(args, 'series');
    const rtstruct = str(args, 'rtstruct');
    const labels = str(args, 'labels');
    if ((rtstruct ? 1 : 0) + (labels ? 1 : 0) !== 1) throw new InputError('give exactly one of --rtstruct FILE or --labels FILE --names FILE');
    const db = ctx.db();
    if (rtstruct) {
      const r = deriveTemplatesFromRtstruct(db, { set, seriesUid, file: rtstruct, ...(structures.length ? { structures } : {}) });
      for (const w of r.warnings) ctx.log(`warning: ${w}`);
      return { set: r.set, structures: r.structures.map((s) => ({ name: s.name, points: s.points })) };
    }
    const namesFile = req(args, 'names');
    const series = getSeries(db, seriesUid);
    const derived = await deriveFromLabelFile(db, {
      set,
      seriesUid,
      labelsPath: labels!,
      names: readNamesFile(namesFile),
      series,
      ...(structures.length ? { structures } : {}),
    });
    return { set: set.trim(), structures: derived };
  },
};
