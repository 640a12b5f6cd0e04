/**
 * `delineate export rtstruct --series UID --out FILE [--approved-only] [--set NAME] [--labels FILE --names FILE]`:
 * writes an RT Structure Set for the series from its stored result masks, or from a label map put onto
 * the series grid. Pre-flight checks run first; a structure set that fails them is refused and no
 * file is written (DESIGN.md "Output", command line contract).
 */
import { bool, req, str, type ParsedArgs } from '../args.js';
import type { CliContext, Command } from '../command.js';
import { InputError } from '../../engine/errors.js';
import { userInfo } from 'node:os';
import { exportLabelsRtstruct, exportResultsRtstruct } from '../../engine/rtstruct/export.js';
import { deidentifier } from '../../engine/deid/file.js';
import { projectPseudonyms } from '../../engine/deid/mapping.js';
import { DEID_FLAGS } from './export-dicom.js';

export interface ExportRtstructOutput {
  out: string;
  sopInstanceUid: string;
  structures: Array<{ name: string; contours: number; points: number }>;
}

export const exportRtstructCommand: Command = {
  path: ['export', 'rtstruct'],
  summary: 'write a DICOM RTSTRUCT for a series (stored results, or a label map with --labels/--names)',
  usage: 'delineate export rtstruct --series UID --out FILE [--approved-only] [--set NAME] [--labels FILE.nii.gz --names FILE.json] [--simplify MM] [--deidentify [--project NAME] [--modified-dates]]',
  flags: {
    series: { type: 'string', description: 'series instance UID of the CT the contours belong to' },
    out: { type: 'string', description: 'RTSTRUCT file to write' },
    'approved-only': { type: 'boolean', description: 'export only structures whose review state is approved' },
    set: { type: 'string', description: 'template set of the stored results (when several have results)' },
    labels: { type: 'string', description: 'label map (NIfTI) to export instead of stored results' },
    names: { type: 'string', description: 'JSON mapping label values to structure names (with --labels)' },
    simplify: { type: 'string', description: 'simplify contours within this tolerance in mm (default 0: exact voxel edges)' },
    deidentify: DEID_FLAGS.deidentify,
    project: DEID_FLAGS.project,
    'modified-dates': DEID_FLAGS['modified-dates'],
  },
  async run(a: ParsedArgs, ctx: CliContext): Promise<ExportRtstructOutput> {
    const seriesUid = req(a, 'series');
    const out = req(a, 'out');
    const labels = str(a, 'labels');
    const names = str(a, 'names');
    if ((labels === undefined) !== (names === undefined)) throw new InputError('--labels and --names go together');
    const simplifyText = str(a, 'simplify');
    const simplifyMm = simplifyText === undefined ? 0 : Number(simplifyText);
    if (!Number.isFinite(simplifyMm) || simplifyMm < 0) throw new InputError(`--simplify must be a tolerance in mm, not '${simplifyText}'`);
    const warn = (m: string): void => ctx.log(`warning: ${m}`);
    const db = ctx.db();
    const set = str(a, 'set');
    const deidentify = bool(a, 'deidentify');
    if (!deidentify && (bool(a, 'modified-dates') || str(a, 'project') !== undefined)) throw new InputError('--project and --modified-dates go with --deidentify');
    // De-identified in memory before the write: only the de-identified object ever sits at --out,
    // and the exports log and audit trail name --out and the UIDs written.
    const transform = deidentify ? { transform: deidentifier(projectPseudonyms(db, str(a, 'project')), { modifiedDates: bool(a, 'modified-dates') }) } : {};
    const written =
      labels !== undefined && names !== undefined
        ? exportLabelsRtstruct(db, seriesUid, labels, names, out, { warn, simplifyMm, ...transform })
        : exportResultsRtstruct(db, seriesUid, out, { approvedOnly: bool(a, 'approved-only'), ...(set ? { templateSet: set } : {}), simplifyMm, warn, actor: exportActor(), ...transform });
    ctx.log(`wrote ${out}: ${written.structures.length} structures${deidentify ? ', de-identified' : ''}`);
    return {
      out,
      sopInstanceUid: written.sopInstanceUid,
      structures: written.structures.map((s) => ({ name: s.name, contours: s.contours, points: s.points })),
    };
  },
  human(result: unknown): string {
    const r = result as ExportRtstructOutput;
    return [`${r.out} (SOP Instance UID ${r.sopInstanceUid})`, ...r.structures.map((s) => `  ${s.name.padEnd(16)} ${String(s.contours).padStart(5)} contours ${String(s.points).padStart(7)} points`)].join('\n');
  },
};

/** Who the audit trail records for a command-line export: the operating-system account. */
function exportActor(): string {
  try {
    return userInfo().username || 'cli';
  } catch {
    return process.env.USER ?? 'cli';
  }
}
