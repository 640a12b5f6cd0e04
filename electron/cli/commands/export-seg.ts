/**
 * `delineate export seg --series UID --out FILE.dcm [--approved-only] [--set NAME]`: the stored masks
 * of a series as one DICOM Segmentation (BINARY, one segment per structure) referencing its CT images,
 * for 3D Slicer, OHIF and research pipelines. JSON: {out, sopInstanceUid, seriesInstanceUid, segments:[{number, name, frames}]}.
 */
import { userInfo } from 'node:os';
import type { Command } from '../command.js';
import { bool, req, str } from '../args.js';
import { exportResultsSeg, type WrittenSeg } from '../../engine/seg/export.js';
import { InputError } from '../../engine/errors.js';
import { deidentifier } from '../../engine/deid/file.js';
import { projectPseudonyms } from '../../engine/deid/mapping.js';
import { DEID_FLAGS } from './export-dicom.js';

export const exportSegCommand: Command = {
  path: ['export', 'seg'],
  summary: 'write the stored masks of a series as a DICOM Segmentation object',
  usage: 'delineate export seg --series UID --out FILE.dcm [--approved-only] [--set NAME] [--deidentify [--project NAME] [--modified-dates]] [--db FILE] [--json]',
  flags: {
    series: { type: 'string', description: 'series instance UID of the CT' },
    out: { type: 'string', description: 'SEG file to write' },
    'approved-only': { type: 'boolean', description: 'only structures whose review state is approved' },
    set: { type: 'string', description: 'template set (when several have results on the series)' },
    deidentify: DEID_FLAGS.deidentify,
    project: DEID_FLAGS.project,
    'modified-dates': DEID_FLAGS['modified-dates'],
  },
  run(args, ctx): Promise<WrittenSeg> {
    const set = str(args, 'set');
    let actor: string;
    try {
      actor = userInfo().username || 'cli';
    } catch {
      actor = process.env.USER ?? 'cli';
    }
    const out = req(args, 'out');
    const deidentify = bool(args, 'deidentify');
    if (!deidentify && (bool(args, 'modified-dates') || str(args, 'project') !== undefined)) throw new InputError('--project and --modified-dates go with --deidentify');
    // De-identified in memory before the write: only the de-identified object ever sits at --out; the
    // project's pseudonyms make it reference a de-identified CT of the same project.
    const db = ctx.db();
    const written = exportResultsSeg(db, req(args, 'series'), out, {
      approvedOnly: bool(args, 'approved-only'),
      ...(set !== undefined ? { templateSet: set } : {}),
      actor,
      warn: (m) => ctx.log(`warning: ${m}`),
      ...(deidentify ? { transform: deidentifier(projectPseudonyms(db, str(args, 'project')), { modifiedDates: bool(args, 'modified-dates') }) } : {}),
    });
    ctx.log(`wrote ${written.out}: ${written.segments.length} segments${deidentify ? ', de-identified' : ''}`);
    return Promise.resolve(written);
  },
};
