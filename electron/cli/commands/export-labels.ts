/**
 * `delineate export labels --series UID --out FILE.nii.gz [--set NAME] [--approved-only]`: the stored
 * masks as one NIfTI label map on the series grid, so results can be inspected in any viewer, plus
 * the `--names` JSON ({value: name}) beside it as `<FILE without .nii[.gz]>.json`.
 * Values follow the structures' alphabetical order (1, 2, ...); where masks overlap, the later
 * structure wins (as the OpenKBP label maps do). JSON: {out, labels:{value:name}}.
 */
import { writeFileAtomic } from '../../engine/fs/atomic.js';
import { basename, dirname, join } from 'node:path';
import type { Command } from '../command.js';
import { bool, req, str } from '../args.js';
import { InputError, NotFoundError } from '../../engine/errors.js';
import { writeNifti } from '../../engine/nifti/nifti.js';
import { getSeriesGeometry } from '../../engine/store/archive.js';
import { getResultMask, getResults } from '../../engine/store/results.js';
import { projectPseudonyms } from '../../engine/deid/mapping.js';
import { DEID_FLAGS } from './export-dicom.js';

export interface ExportLabelsOutput {
  out: string;
  labels: Record<string, string>;
  /** With --deidentify: the project's pseudonym of the series UID (the files name no series). */
  seriesPseudonym?: string;
}

/** FILE.nii.gz -> FILE.json beside it. */
export function namesPathFor(out: string): string {
  const b = basename(out).replace(/\.nii(\.gz)?$/i, '');
  return join(dirname(out), `${b}.json`);
}

export const exportLabelsCommand: Command = {
  path: ['export', 'labels'],
  summary: 'write the stored masks of a series as a NIfTI label map (+ names JSON beside it)',
  usage: 'delineate export labels --series UID --out FILE.nii.gz [--set NAME] [--approved-only] [--deidentify [--project NAME]] [--db FILE] [--json]',
  flags: {
    series: { type: 'string', description: 'series instance UID' },
    out: { type: 'string', description: 'output .nii or .nii.gz file' },
    set: { type: 'string', description: 'template set (needed when several sets have masks on the series)' },
    'approved-only': { type: 'boolean', description: 'only structures whose review state is approved' },
    deidentify: DEID_FLAGS.deidentify,
    project: DEID_FLAGS.project,
  },
  async run(args, ctx): Promise<ExportLabelsOutput> {
    const seriesUid = req(args, 'series');
    const out = req(args, 'out');
    if (!/\.nii(\.gz)?$/i.test(out)) throw new InputError(`--out must end in .nii or .nii.gz, not ${out}`, { file: out });
    const setName = str(args, 'set');
    const db = ctx.db();
    const geometry = getSeriesGeometry(db, seriesUid);
    let results = getResults(db, seriesUid, setName).filter((r) => r.hasMask);
    if (bool(args, 'approved-only')) results = results.filter((r) => r.reviewState === 'approved');
    if (results.length === 0) {
      throw new NotFoundError(`series ${seriesUid} has no stored masks${setName ? ` in template set '${setName}'` : ''}${bool(args, 'approved-only') ? ' that are approved' : ''}`, { seriesUid });
    }
    const sets = [...new Set(results.map((r) => r.templateSet))];
    if (sets.length > 1) {
      throw new InputError(`series ${seriesUid} has masks from template sets ${sets.join(', ')}: choose one with --set`, { seriesUid });
    }
    results.sort((a, b) => (a.structure < b.structure ? -1 : a.structure > b.structure ? 1 : 0));
    const n = geometry.dims[0] * geometry.dims[1] * geometry.dims[2];
    const data = results.length <= 255 ? new Uint8Array(n) : new Uint16Array(n);
    const labels: Record<string, string> = {};
    results.forEach((r, idx) => {
      const mask = getResultMask(db, r.id);
      if (!mask || mask.length !== n) {
        throw new InputError(`stored mask of ${r.structure} on series ${seriesUid} does not match the series grid`, { seriesUid, structure: r.structure });
      }
      const value = idx + 1;
      for (let p = 0; p < n; p++) if (mask[p]) data[p] = value;
      labels[String(value)] = r.structure;
    });
    // A label map carries geometry and structure names only; de-identified, its description names
    // no template set either (a set name can be a patient's or a site's).
    const deidentify = bool(args, 'deidentify');
    if (!deidentify && str(args, 'project') !== undefined) throw new InputError('--project goes with --deidentify');
    writeNifti(out, { dims: geometry.dims, spacing: geometry.spacing, origin: geometry.origin, direction: geometry.direction, data }, {
      description: deidentify ? 'Delineate label map (de-identified)' : `Delineate label map, template set ${sets[0]}`,
      operation: 'export labels',
    });
    const names = namesPathFor(out);
    writeFileAtomic(names, `${JSON.stringify(labels, null, 1)}\n`, { operation: 'export labels' });
    ctx.log(`wrote ${out} and ${names}`);
    return { out, labels, ...(deidentify ? { seriesPseudonym: projectPseudonyms(db, str(args, 'project')).uid(seriesUid) } : {}) };
  },
};
