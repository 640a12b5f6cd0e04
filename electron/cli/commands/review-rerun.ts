/**
 * `delineate review rerun --series UID --set NAME --structure NAME (--box "x,y,z;x,y,z" |
 * --points "x,y,z;...") --reviewer NAME [--models DIR]`: re-segments one structure with a box or six
 * extreme points edited by a reviewer (LPS mm), stores it marked 'edited' (exported as MANUAL), resets
 * its review to pending and records an 'edited' audit entry (engine/review/rerun.ts).
 * JSON: {seriesUid, templateSet, structure, boxes, voxels, volumeCc, reviewState}.
 */
import type { Command } from '../command.js';
import { req, str } from '../args.js';
import { InputError } from '../../engine/errors.js';
import { defaultModelsDir } from '../../engine/paths.js';
import { rerunStructure } from '../../engine/review/rerun.js';
import type { Vec3 } from '../../engine/volume/geometry.js';

/** "x,y,z;x,y,z;..." -> points, each three finite numbers. */
export function parsePoints(text: string, option: string): Vec3[] {
  return text
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const v = s.split(',').map((x) => Number(x.trim()));
      if (v.length !== 3 || !v.every(Number.isFinite)) throw new InputError(`option ${option}: '${s}' is not a point x,y,z (LPS mm)`);
      return v as Vec3;
    });
}

export const reviewRerunCommand: Command = {
  path: ['review', 'rerun'],
  summary: "re-segment a structure on a series with an edited box or extreme points (audited)",
  usage:
    'delineate review rerun --series UID --set NAME --structure NAME (--box "x,y,z;x,y,z" | --points "x,y,z;...") --reviewer NAME [--models DIR] [--db FILE] [--json]',
  flags: {
    series: { type: 'string', description: 'series instance UID' },
    set: { type: 'string', description: 'template set name' },
    structure: { type: 'string', description: 'structure name (TG-263)' },
    box: { type: 'string', description: 'box min;max, LPS mm: "x,y,z;x,y,z"' },
    points: { type: 'string', description: 'six extreme points, LPS mm: "x,y,z;x,y,z;..."' },
    reviewer: { type: 'string', description: 'who edits (recorded in the audit trail)' },
    models: { type: 'string', description: 'models folder (default: DELINEATE_MODELS or the per-user folder)' },
  },
  async run(args, ctx) {
    const seriesUid = req(args, 'series');
    const templateSet = req(args, 'set');
    const structure = req(args, 'structure');
    const reviewer = req(args, 'reviewer');
    const boxText = str(args, 'box');
    const pointsText = str(args, 'points');
    if ((boxText === undefined) === (pointsText === undefined)) throw new InputError('give exactly one of --box and --points');
    let box: { min: Vec3; max: Vec3 } | undefined;
    if (boxText !== undefined) {
      const p = parsePoints(boxText, '--box');
      if (p.length !== 2) throw new InputError(`option --box needs two points min;max, got ${p.length}`);
      box = { min: p[0]!, max: p[1]! };
    }
    const r = await rerunStructure(ctx.db(), {
      seriesUid, templateSet, structure, reviewer, signal: ctx.signal,
      modelsDir: str(args, 'models') ?? defaultModelsDir(),
      ...(box ? { box } : { extremePoints: parsePoints(pointsText!, '--points') }),
    });
    return { seriesUid: r.seriesUid, templateSet: r.templateSet, structure: r.structure, boxes: r.boxes, voxels: r.voxels, volumeCc: r.volumeCc, reviewState: r.reviewState };
  },
};
