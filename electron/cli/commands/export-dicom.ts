/**
 * `delineate export dicom --series UID... --out DIR [--with-results] [--deidentify [--project NAME]
 * [--modified-dates] [--allow-burned-in]]`: the CT images of each series (and with --with-results its
 * results as RTSTRUCT plus the RTSTRUCT/SEG objects the archive holds for it) as DICOM files under
 * DIR/series-NNN/. --deidentify applies DICOM PS3.15 Annex E, Basic Profile (engine/deid).
 * JSON: {out, deidentified, series:[{seriesUid, writtenSeriesUid, dir, images, objects}]}; with --deidentify
 * seriesUid (the original) is left out: what a command prints tends to travel with the files (a
 * script's log, a ticket), and the link back stays in the archive's pseudonym tables and exports log.
 */
import { userInfo } from 'node:os';
import { bool, list, req, str } from '../args.js';
import type { Command } from '../command.js';
import { exportDicomSeries, type ExportedSeries } from '../../engine/deid/export-dicom.js';
import { InputError } from '../../engine/errors.js';

export interface ExportDicomOutput {
  out: string;
  deidentified: boolean;
  series: (Omit<ExportedSeries, 'seriesUid'> & { seriesUid?: string })[];
}

/** The de-identification flags shared by every exporting command. */
export const DEID_FLAGS = {
  deidentify: { type: 'boolean', description: 'de-identify (DICOM PS3.15 Annex E, Basic Application Level Confidentiality Profile)' },
  project: { type: 'string', description: 'pseudonym project: the same project gives the same pseudonyms in every export (default "default")' },
  'modified-dates': { type: 'boolean', description: 'with --deidentify: shift dates by a per-patient offset instead of removing them' },
  'allow-burned-in': { type: 'boolean', description: 'with --deidentify: export images flagged BurnedInAnnotation YES (a person checked them)' },
} as const;

export const exportDicomCommand: Command = {
  path: ['export', 'dicom'],
  summary: 'write series as DICOM files (with --with-results their RTSTRUCT), optionally de-identified',
  usage: 'delineate export dicom --series UID... --out DIR [--with-results] [--deidentify [--project NAME] [--modified-dates] [--allow-burned-in]] [--db FILE] [--json]',
  flags: {
    series: { type: 'list', description: 'series instance UIDs to export' },
    out: { type: 'string', description: 'folder to write series-NNN/ folders into' },
    'with-results': { type: 'boolean', description: 'also the stored results as RTSTRUCT and the RTSTRUCT/SEG objects referencing the series' },
    ...DEID_FLAGS,
  },
  async run(a, ctx): Promise<ExportDicomOutput> {
    const seriesUids = list(a, 'series');
    if (seriesUids.length === 0) throw new InputError('export dicom needs --series UID (one or more)');
    const out = req(a, 'out');
    const deidentify = bool(a, 'deidentify');
    if (!deidentify && (bool(a, 'modified-dates') || bool(a, 'allow-burned-in') || str(a, 'project') !== undefined)) {
      throw new InputError('--project, --modified-dates and --allow-burned-in go with --deidentify');
    }
    const project = str(a, 'project');
    const series = exportDicomSeries(ctx.db(), {
      seriesUids,
      outDir: out,
      withResults: bool(a, 'with-results'),
      deidentify,
      ...(project !== undefined ? { project } : {}),
      modifiedDates: bool(a, 'modified-dates'),
      allowBurnedInAnnotation: bool(a, 'allow-burned-in'),
      actor: osUser(),
      warn: (m) => ctx.log(`warning: ${m}`),
    });
    for (const s of series) ctx.log(`wrote ${s.dir}: ${s.images} images${s.objects.length ? `, ${s.objects.map((o) => o.kind).join(', ')}` : ''}`);
    return { out, deidentified: deidentify, series: deidentify ? series.map(({ seriesUid: _original, ...rest }) => rest) : series };
  },
  human(result: unknown): string {
    const r = result as ExportDicomOutput;
    return r.series.map((s) => `${s.dir}  ${s.images} images${s.objects.map((o) => `  ${o.file}`).join('')}`).join('\n');
  },
};

function osUser(): string {
  try {
    return userInfo().username || 'cli';
  } catch {
    return process.env.USER ?? 'cli';
  }
}
