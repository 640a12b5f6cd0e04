/**
 * `delineate template add --set NAME --series UID --structure NAME --points "x,y,z;...;x,y,z"`:
 * stores six extreme points (LPS mm) as a template member. JSON: `{set, structure, seriesUid, points}`,
 * the points in slot order (right, left, anterior, posterior, inferior, superior).
 */
import type { Vec3 } from '../../api.js';
import { InputError } from '../../engine/errors.js';
import { addTemplateMember, getTemplateSet } from '../../engine/store/templates.js';
import { req, str } from '../args.js';
import type { Command } from '../command.js';

export function parsePoints(text: string): Vec3[] {
  const pts = text
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((p, i) => {
      const v = p.split(',').map((c) => Number(c.trim()));
      if (v.length !== 3 || v.some((c) => !Number.isFinite(c))) throw new InputError(`--points: point ${i + 1} '${p}' is not x,y,z in mm`);
      return v as Vec3;
    });
  if (pts.length !== 6) throw new InputError(`--points needs six points separated by ';', got ${pts.length}`);
  return pts;
}

export const templateAddCommand: Command = {
  path: ['template', 'add'],
  summary: 'add six extreme points of a structure on a series to a template set',
  usage: 'delineate template add --set NAME --series UID --structure NAME --points "x,y,z;...;x,y,z" [--color #rrggbb] [--db FILE] [--json]',
  flags: {
    set: { type: 'string', description: 'template set name' },
    series: { type: 'string', description: 'series instance UID of the template CT' },
    structure: { type: 'string', description: 'TG-263 structure name (at most 16 characters)' },
    points: { type: 'string', description: 'six LPS points in mm: "x,y,z;x,y,z;..."' },
    color: { type: 'string', description: 'display colour #rrggbb for a new custom structure' },
  },
  async run(args, ctx) {
    const set = req(args, 'set');
    const structure = req(args, 'structure');
    const seriesUid = req(args, 'series');
    const points = parsePoints(req(args, 'points'));
    const color = str(args, 'color');
    const db = ctx.db();
    addTemplateMember(db, { set, structure, seriesUid, points, source: 'clicked', ...(color ? { color } : {}) });
    const stored = getTemplateSet(db, set.trim())
      .structures.find((s) => s.name === structure.trim())!
      .members.find((m) => m.seriesUid === seriesUid)!;
    return { set: set.trim(), structure: structure.trim(), seriesUid, points: stored.points };
  },
};
