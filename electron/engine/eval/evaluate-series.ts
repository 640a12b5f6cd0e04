/**
 * One series evaluated end to end, the engine entry point behind `delineate eval` (and the one an api
 * method for the review panel should call): the series grid from the archive, the reference from a
 * file, the prediction from a file or from the stored results, every paired structure scored.
 */
import type { Db } from '../store/db.js';
import type { BoxConvention } from '../metrics/boxes.js';
import { evaluateSets, type EvalReport } from './evaluate-sets.js';
import { structureFileSource } from './file-source.js';
import { seriesGrid } from './series.js';
import { storedResultsSource } from './sources.js';

export interface EvaluateSeriesRequest {
  seriesUid: string;
  /** RTSTRUCT or label map (with namesFile). */
  referenceFile: string;
  namesFile?: string;
  /** Default: the stored results of the series (of templateSet, needed when several sets have some). */
  predictionFile?: string;
  /** Names of a label-map prediction (default: namesFile). */
  predictionNamesFile?: string;
  templateSet?: string;
  /** Only these reference structures. */
  structures?: string[];
  boxConvention?: BoxConvention;
  toleranceMm?: number;
}

export interface EvaluateSeriesResult extends EvalReport {
  seriesUid: string;
  reference: string;
  prediction: string;
  boxConvention: BoxConvention;
  /** Problems met while building masks (contours that fit no slice, ...). */
  warnings: string[];
}

export function evaluateSeries(db: Db, req: EvaluateSeriesRequest): EvaluateSeriesResult {
  const series = seriesGrid(db, req.seriesUid);
  const frame = { seriesUid: req.seriesUid, frameOfReferenceUid: series.frameOfReferenceUid };
  const reference = structureFileSource(req.referenceFile, req.namesFile, series.geometry, frame);
  const prediction = req.predictionFile
    ? structureFileSource(req.predictionFile, req.predictionNamesFile ?? req.namesFile, series.geometry, frame)
    : storedResultsSource(db, req.seriesUid, req.templateSet);
  const boxConvention = req.boxConvention ?? 'centres';
  const report = evaluateSets(reference, prediction, series.geometry, {
    boxConvention,
    ...(req.toleranceMm !== undefined ? { toleranceMm: req.toleranceMm } : {}),
    ...(req.structures ? { only: req.structures } : {}),
  });
  return {
    seriesUid: req.seriesUid,
    reference: reference.source,
    prediction: prediction.source,
    boxConvention,
    ...report,
    warnings: [...(reference.warnings ?? []), ...(prediction.warnings ?? [])],
  };
}
