/**
 * `delineate template outliers --set NAME`: recomputes the outlier flags of a set's members
 * (store/template-outliers.ts: volume, extent or position far from the structure's other members)
 * and lists the flagged ones. `delineate template keep --set NAME --structure S --series UID [--undo]`:
 * a person keeps a flagged member in atlas fusion (or, with --undo, leaves it out again).
 * JSON: `{set, flagged:[{structure, seriesUid, reasons, kept}]}`.
 */
import { flagTemplateOutliers, keepTemplateMember, listTemplateOutliers, type FlaggedMember } from '../../engine/store/template-outliers.js';
import { bool, req } from '../args.js';
import type { Command } from '../command.js';

function human(result: unknown): string {
  const { set, flagged } = result as { set: string; flagged: FlaggedMember[] };
  if (flagged.length === 0) return `${set}: no outlier template members`;
  return [
    `${set}: ${flagged.length} outlier member(s); left out of atlas fusion unless kept`,
    ...flagged.map((f) => `  ${f.structure.padEnd(16)} ${f.seriesUid} ${f.kept ? '[kept] ' : ''}${f.reasons.join('; ')}`),
  ].join('\n');
}

export const templateOutliersCommand: Command = {
  path: ['template', 'outliers'],
  summary: "flag template members whose volume, extent or position is an outlier in their set",
  usage: 'delineate template outliers --set NAME [--db FILE] [--json]',
  flags: { set: { type: 'string', description: 'template set name' } },
  async run(args, ctx) {
    const set = req(args, 'set');
    return { set, flagged: flagTemplateOutliers(ctx.db(), set) };
  },
  human,
};

export const templateKeepCommand: Command = {
  path: ['template', 'keep'],
  summary: 'keep a flagged template member in atlas fusion (--undo: leave it out again)',
  usage: 'delineate template keep --set NAME --structure S --series UID [--undo] [--db FILE] [--json]',
  flags: {
    set: { type: 'string', description: 'template set name' },
    structure: { type: 'string', description: 'structure name' },
    series: { type: 'string', description: 'series instance UID of the member' },
    undo: { type: 'boolean', description: 'leave the member out again' },
  },
  async run(args, ctx) {
    const set = req(args, 'set');
    const db = ctx.db();
    keepTemplateMember(db, { set, structure: req(args, 'structure'), seriesUid: req(args, 'series') }, !bool(args, 'undo'));
    return { set, flagged: listTemplateOutliers(db, set) };
  },
  human,
};
