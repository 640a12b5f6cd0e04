/**
 * Build, check, write: the only way an RTSTRUCT file leaves the engine. A structure set that fails
 * any pre-flight check is refused (DelineateError 'preflight') and nothing is written; the file is
 * written atomically (fs/atomic.ts) so a half-written RTSTRUCT never exists under its name.
 */
import { DelineateError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { buildRtstruct } from './build.js';
import { toPart10 } from './dcmjs.js';
import { formatProblems, preflight, type PreflightOptions } from './preflight.js';
import type { BuiltRtstruct, CtSeriesRef, PreflightProblem, RtstructOptions, StructureInput } from './types.js';

export interface WrittenRtstruct extends Omit<BuiltRtstruct, 'dataset'> {
  out: string;
  /** Pre-flight warnings (never errors: those refuse the write). */
  problems: PreflightProblem[];
}

/**
 * A last step over the encoded object before it is written (de-identification, engine/deid/file.ts):
 * what it returns is what lands under `out`, and the UIDs it reports are the ones logged.
 */
export type WrittenTransform = (bytes: Buffer, label: string) => { bytes: Buffer; sopInstanceUid: string; seriesInstanceUid: string };

export function writeRtstruct(
  out: string,
  series: CtSeriesRef,
  structures: StructureInput[],
  opts: RtstructOptions & PreflightOptions & { transform?: WrittenTransform } = {},
): WrittenRtstruct {
  const built = buildRtstruct(series, structures, opts);
  const problems = preflight(built.dataset, series, opts);
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) {
    throw new DelineateError(
      'preflight',
      `RTSTRUCT for series ${series.seriesInstanceUid} refused by pre-flight checks, nothing written to ${out}:\n${formatProblems(errors)}`,
      { file: out, seriesUid: series.seriesInstanceUid },
    );
  }
  const encoded = toPart10(built.dataset);
  const final = opts.transform ? opts.transform(encoded, out) : { bytes: encoded, sopInstanceUid: built.sopInstanceUid, seriesInstanceUid: built.seriesInstanceUid };
  writeFileAtomic(out, new Uint8Array(final.bytes), { operation: `export rtstruct of series ${series.seriesInstanceUid}` });
  const { dataset: _ds, ...rest } = built;
  return { ...rest, sopInstanceUid: final.sopInstanceUid, seriesInstanceUid: final.seriesInstanceUid, out, problems };
}
