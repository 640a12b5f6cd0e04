/**
 * `delineate export seg --series UID --out FILE.dcm [--approved-only] [--set NAME]`: the stored masks
 * of a series as one DICOM Segmentation (BINARY, one segment per structure) referencing its CT images,
 * for 3D Slicer, OHIF and research pipelines. JSON: {out, sopInstanceUid, seriesInstanceUid, segments:[{number, name, frames}]}.
 */
import { userInfo } from 'node:os';
import type { Command } from '../command.js';
import { bool, req, str } from '../args.js';
import { exportResultsSeg, type WrittenSeg } from '../../engine/seg/export.js';

export const exportSegCommand: Command = {
  path: ['export', 'seg'],
  summary: 'write the stored masks of a series as a DICOM Segmentation object',
  usage: 'delineate export seg --series UID --out FILE.dcm [--approved-only] [--set NAME] [--db FILE] [--json]',
  flags: {
    series: { type: 'string', description: 'series instance UID of the CT' },
    out: { type: 'string', description: 'SEG file to write' },
    'approved-only': { type: 'boolean', description: 'only structures whose review state is approved' },
    set: { type: 'string', description: 'template set (when several have results on the series)' },
  },
  run(args, ctx): Promise<WrittenSeg> {
    const set = str(args, 'set');
    let actor: string;
    try {
      actor = userInfo().username || 'cli';
    } catch {
      actor = process.env.USER ?? 'cli';
    }
    const written = exportResultsSeg(ctx.db(), req(args, 'series'), req(args, 'out'), {
      approvedOnly: bool(args, 'approved-only'),
      ...(set !== undefined ? { templateSet: set } : {}),
      actor,
      warn: (m) => ctx.log(`warning: ${m}`),
    });
    ctx.log(`wrote ${written.out}: ${written.segments.length} segments`);
    return Promise.resolve(written);
  },
};
