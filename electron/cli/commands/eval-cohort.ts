/**
 * `delineate eval cohort`: per-structure mean ± std of the metrics over many cases, and a CSV.
 * Two forms:
 * - leave-one-out over a folder of labelled NIfTI volumes (`--nifti-dir DIR --backend NAME`): each
 *   case in turn is the query and the others its templates;
 * - stored results of a template set over series with references in a folder
 *   (`--set NAME --series UID... --reference-dir DIR`).
 */
import { existsSync } from 'node:fs';
import { writeFileAtomic } from '../../engine/fs/atomic.js';
import { join } from 'node:path';
import { list, req, str, type ParsedArgs } from '../args.js';
import type { CliContext, Command } from '../command.js';
import { InputError } from '../../engine/errors.js';
import { createLocalizer, createSegmenter } from '../../engine/eval/backends.js';
import { runLeaveOneOut, type CohortSkip } from '../../engine/eval/cohort.js';
import { cohortCsv, type CaseMetrics, type CohortSummaryRow } from '../../engine/eval/cohort-stats.js';
import { formatCohortTable } from '../../engine/eval/format.js';
import { niftiCohort } from '../../engine/eval/nifti-cohort.js';
import { readLabelNames } from '../../engine/eval/sources.js';
import { evaluateStoredCohort } from '../../engine/eval/stored-cohort.js';
import { defaultModelsDir } from '../../engine/paths.js';
import { boxConventionOf, toleranceOf } from './eval.js';

export interface CohortOutput {
  form: 'leave-one-out' | 'stored';
  localizer: string | null;
  segmenter: string | null;
  /** Per structure: cases, and mean/std/n of each metric. */
  structures: CohortSummaryRow[];
  cases: CaseMetrics[];
  skipped: CohortSkip[];
  csv: string | null;
}

async function leaveOneOut(a: ParsedArgs, ctx: CliContext, dir: string): Promise<CohortOutput> {
  const namesFile = str(a, 'names') ?? join(dir, 'oar_names.json');
  if (!existsSync(namesFile)) throw new InputError(`cohort ${dir} needs --names FILE (no oar_names.json there)`, { file: dir });
  const names = readLabelNames(namesFile);
  const cases = niftiCohort(dir, {
    ...(str(a, 'ct-suffix') ? { ctSuffix: str(a, 'ct-suffix')! } : {}),
    ...(str(a, 'labels-suffix') ? { labelsSuffix: str(a, 'labels-suffix')! } : {}),
    only: list(a, 'cases'),
  });
  const modelsDir = str(a, 'models') ?? defaultModelsDir();
  const localizer = await createLocalizer(req(a, 'backend'), { modelsDir });
  const segName = str(a, 'segmenter');
  const segmenter = segName ? await createSegmenter(segName, { modelsDir }) : undefined;
  const mode = str(a, 'mode') ?? 'wpl';
  if (mode !== 'wpl' && mode !== 'spl') throw new InputError(`--mode must be wpl or spl, not '${mode}'`);
  ctx.log(`leave-one-out over ${cases.length} cases of ${dir} with ${localizer.name}${segmenter ? ` + ${segmenter.name}` : ''} (${mode})`);
  const r = await runLeaveOneOut(cases, {
    localizer,
    ...(segmenter ? { segmenter } : {}),
    names,
    structures: list(a, 'structures'),
    mode,
    setName: `loo-${localizer.name}`,
    evaluate: { boxConvention: boxConventionOf(a), toleranceMm: toleranceOf(a) },
    signal: ctx.signal,
    onProgress: (p) => ctx.log(`[${p.done}/${p.total}] ${p.message ?? 'done'}`),
  });
  return { form: 'leave-one-out', localizer: r.localizer, segmenter: r.segmenter, structures: r.summary, cases: r.rows, skipped: r.skipped, csv: null };
}

export const evalCohortCommand: Command = {
  path: ['eval', 'cohort'],
  summary: 'per-structure mean ± std over a cohort: leave-one-out over labelled NIfTI volumes, or stored results against references',
  usage:
    'delineate eval cohort --nifti-dir DIR --backend NAME [--segmenter NAME] [--models DIR] [--names FILE] [--mode wpl|spl] [--cases ID ...] [--csv FILE]\n' +
    '       delineate eval cohort --set NAME --series UID ... --reference-dir DIR [--names FILE] [--csv FILE]\n' +
    '       (both: [--structures A B ...] [--box-convention centres|edges] [--tolerance MM])',
  flags: {
    'nifti-dir': { type: 'string', description: 'folder of ID_ct.nii.gz + ID_oar_labels.nii.gz (leave-one-out)' },
    'ct-suffix': { type: 'string', description: 'CT file suffix (default _ct.nii.gz)' },
    'labels-suffix': { type: 'string', description: 'label map suffix (default _oar_labels.nii.gz)' },
    cases: { type: 'list', description: 'only these case ids' },
    backend: { type: 'string', description: 'localizer backend (leave-one-out)' },
    segmenter: { type: 'string', description: 'segmenter backend (optional; without it only box metrics)' },
    models: { type: 'string', description: 'models folder (default: the per-user one or DELINEATE_MODELS)' },
    mode: { type: 'string', description: 'wpl (default) or spl' },
    set: { type: 'string', description: 'template set whose stored results are scored' },
    series: { type: 'list', description: 'series UIDs (stored form)' },
    'reference-dir': { type: 'string', description: 'folder of reference RTSTRUCTs or UID.nii.gz label maps (stored form)' },
    names: { type: 'string', description: 'JSON mapping label values to structure names' },
    structures: { type: 'list', description: 'only these structures' },
    csv: { type: 'string', description: 'write per-case rows and per-structure mean/std/n here' },
    'box-convention': { type: 'string', description: 'centres (default) or edges' },
    tolerance: { type: 'string', description: 'surface Dice tolerance in mm (default 2)' },
  },
  async run(a: ParsedArgs, ctx: CliContext): Promise<CohortOutput> {
    const dir = str(a, 'nifti-dir');
    let out: CohortOutput;
    if (dir) {
      out = await leaveOneOut(a, ctx, dir);
    } else {
      const series = list(a, 'series');
      if (series.length === 0) throw new InputError('give --nifti-dir DIR (leave-one-out) or --set NAME --series UID ... --reference-dir DIR');
      const names = str(a, 'names');
      const r = evaluateStoredCohort(ctx.db(), series, req(a, 'reference-dir'), {
        setName: req(a, 'set'),
        ...(names ? { namesFile: names } : {}),
        only: list(a, 'structures'),
        boxConvention: boxConventionOf(a),
        toleranceMm: toleranceOf(a),
        signal: ctx.signal,
        log: ctx.log,
      });
      out = { form: 'stored', localizer: null, segmenter: null, structures: r.summary, cases: r.rows, skipped: r.skipped, csv: null };
    }
    for (const s of out.skipped) ctx.log(`not scored: ${s.caseId}${s.structure ? ` ${s.structure}` : ''}: ${s.reason}`);
    if (out.cases.length === 0) {
      throw new InputError(`nothing was scored: ${out.skipped.map((s) => `${s.caseId}: ${s.reason}`).join('; ') || 'no case'}`);
    }
    const csv = str(a, 'csv');
    if (csv) {
      writeFileAtomic(csv, cohortCsv(out.cases, out.structures), { operation: 'eval cohort' });
      out.csv = csv;
      ctx.log(`wrote ${csv}`);
    }
    return out;
  },
  human(result: unknown): string {
    return formatCohortTable((result as CohortOutput).structures);
  },
};
