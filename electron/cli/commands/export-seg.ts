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
import { deidentifyFile } from '../../engine/deid/file.js';
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
    // De-identified: written under a temporary name first, so the identified object never sits at
    // --out; the project's pseudonyms make it reference a de-identified CT of the same project.
    const target = deidentify ? `${out}.identified-${process.pid}` : out;
    const db = ctx.db();
    const written = exportResultsSeg(db, req(args, 'series'), target, {
      approvedOnly: bool(args, 'approved-only'),
      ...(set !== undefined ? { templateSet: set } : {}),
      actor,
      warn: (m) => ctx.log(`warning: ${m}`),
    });
    if (!deidentify) {
      ctx.log(`wrote ${written.out}: ${written.segments.length} segments`);
      return Promise.resolve(written);
    }
    const clean = deidentifyFile(target, out, projectPseudonyms(db, str(args, 'project')), { modifiedDates: bool(args, 'modified-dates') });
    ctx.log(`wrote ${out}: ${written.segments.length} segments, de-identified`);
    return Promise.resolve({ ...written, out, ...clean });
  },
};
