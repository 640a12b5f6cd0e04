/**
 * `delineate eval --series UID --reference (FILE.dcm | FILE.nii.gz --names FILE) [--prediction FILE]`:
 * per-structure Dice, HD95, surface Dice at 2 mm, box IoU and wall distance of a prediction against a
 * reference on the series grid (DESIGN.md, command line contract). The prediction defaults to the
 * results stored for the series.
 */
import { list, req, str, type ParsedArgs } from '../args.js';
import type { CliContext, Command } from '../command.js';
import { InputError } from '../../engine/errors.js';
import { evaluateSeries, type EvaluateSeriesResult } from '../../engine/eval/evaluate-series.js';
import type { BoxConvention } from '../../engine/metrics/boxes.js';
import { formatMetricsTable } from '../../engine/eval/format.js';

export type EvalOutput = EvaluateSeriesResult;

export function boxConventionOf(a: ParsedArgs): BoxConvention {
  const v = str(a, 'box-convention') ?? 'centres';
  if (v !== 'centres' && v !== 'edges') throw new InputError(`--box-convention must be centres or edges, not '${v}'`);
  return v;
}

export function toleranceOf(a: ParsedArgs): number {
  const t = str(a, 'tolerance');
  if (t === undefined) return 2;
  const v = Number(t);
  if (!Number.isFinite(v) || v < 0) throw new InputError(`--tolerance must be a distance in mm, not '${t}'`);
  return v;
}

export const evalCommand: Command = {
  path: ['eval'],
  summary: 'score a prediction (stored results, RTSTRUCT or label map) against a reference: Dice, HD95, surface Dice, box IoU, wall distance',
  usage:
    'delineate eval --series UID --reference (FILE.dcm | FILE.nii.gz --names FILE) [--prediction FILE.dcm | FILE.nii.gz [--prediction-names FILE]] ' +
    '[--set NAME] [--structures A B ...] [--box-convention centres|edges] [--tolerance MM]',
  flags: {
    series: { type: 'string', description: 'series instance UID whose grid the masks are compared on' },
    reference: { type: 'string', description: 'reference contours: RTSTRUCT (.dcm) or label map (.nii.gz, with --names)' },
    names: { type: 'string', description: 'JSON mapping label values to names, for a label-map reference (and prediction)' },
    prediction: { type: 'string', description: 'predicted contours (default: the results stored for the series)' },
    'prediction-names': { type: 'string', description: 'names JSON of a label-map prediction (default: --names)' },
    set: { type: 'string', description: 'template set of the stored results (needed when several sets have results)' },
    structures: { type: 'list', description: 'score only these reference structures' },
    'box-convention': { type: 'string', description: 'mask boxes from voxel centres (default, as MedLSAM) or voxel edges' },
    tolerance: { type: 'string', description: 'surface Dice tolerance in mm (default 2)' },
  },
  async run(a: ParsedArgs, ctx: CliContext): Promise<EvalOutput> {
    const names = str(a, 'names');
    const prediction = str(a, 'prediction');
    const predictionNames = str(a, 'prediction-names');
    const set = str(a, 'set');
    const result = evaluateSeries(ctx.db(), {
      seriesUid: req(a, 'series'),
      referenceFile: req(a, 'reference'),
      ...(names ? { namesFile: names } : {}),
      ...(prediction ? { predictionFile: prediction } : {}),
      ...(predictionNames ? { predictionNamesFile: predictionNames } : {}),
      ...(set ? { templateSet: set } : {}),
      structures: list(a, 'structures'),
      boxConvention: boxConventionOf(a),
      toleranceMm: toleranceOf(a),
    });
    for (const w of result.warnings) ctx.log(`warning: ${w}`);
    for (const name of result.unmatched.reference) ctx.log(`not scored: reference structure ${name} has no prediction`);
    for (const name of result.unmatched.prediction) ctx.log(`not scored: predicted structure ${name} has no reference`);
    return result;
  },
  human(result: unknown): string {
    return formatMetricsTable((result as EvalOutput).structures);
  },
};
