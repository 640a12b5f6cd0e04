/**
 * `delineate template derive --set NAME --series UID (--rtstruct FILE | --labels FILE --names FILE)
 * [--structures A,B]`: template members from contours a clinic already has, with the MedLAM
 * reference's extreme-point rule. JSON: `{set, structures:[{name, points}]}`; warnings go to stderr.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../../engine/errors.js';
import { deriveTemplatesFromRtstruct } from '../../engine/rtstruct/derive.js';
import { deriveFromLabelFile } from '../../engine/service-derive.js';
import { getSeries } from '../../engine/store/archive.js';
import { list, req, str } from '../args.js';
import type { Command } from '../command.js';

export function readNamesFile(file: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(`names file ${file} is not readable JSON: ${(e as Error).message}`, { file });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InputError(`names file ${file} must be a JSON object {value: name}`, { file });
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v !== 'string' || !v.trim()) throw new InputError(`names file ${file}: label ${k} has no name`, { file });
    out[k] = v;
  }
  return out;
}

export const templateDeriveCommand: Command = {
  path: ['template', 'derive'],
  summary: 'derive template members from an RTSTRUCT or a label map on a series',
  usage: 'delineate template derive --set NAME --series UID (--rtstruct FILE | --labels FILE --names FILE) [--structures A,B] [--db FILE] [--json]',
  flags: {
    set: { type: 'string', description: 'template set name' },
    series: { type: 'string', description: 'series instance UID the contours were drawn on' },
    rtstruct: { type: 'string', description: 'RTSTRUCT file referencing the series' },
    labels: { type: 'string', description: 'NIfTI label map on the series' },
    names: { type: 'string', description: 'JSON file mapping label values to structure names' },
    structures: { type: 'list', description: 'only these structures (comma-separated or repeated)' },
  },
  async run(args, ctx) {
    const set = req(args, 'set');
    const seriesUid = req(args, 'series');
    const structures = list(args, 'structures')
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter(Boolean);
    const rtstruct = str(args, 'rtstruct');
    const labels = str(args, 'labels');
    if ((rtstruct ? 1 : 0) + (labels ? 1 : 0) !== 1) throw new InputError('give exactly one of --rtstruct FILE or --labels FILE --names FILE');
    const db = ctx.db();
    if (rtstruct) {
      const r = deriveTemplatesFromRtstruct(db, { set, seriesUid, file: rtstruct, ...(structures.length ? { structures } : {}) });
      for (const w of r.warnings) ctx.log(`warning: ${w}`);
      return { set: r.set, structures: r.structures.map((s) => ({ name: s.name, points: s.points })) };
    }
    const namesFile = req(args, 'names');
    const series = getSeries(db, seriesUid);
    const derived = await deriveFromLabelFile(db, {
      set,
      seriesUid,
      labelsPath: labels!,
      names: readNamesFile(namesFile),
      series,
      ...(structures.length ? { structures } : {}),
    });
    return { set: set.trim(), structures: derived };
  },
};
