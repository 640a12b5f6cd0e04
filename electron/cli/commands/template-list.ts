/**
 * `delineate template list`: every template set with its structures and template scans.
 * JSON: `{sets:[{name, structures:[{name, color, members:[{seriesUid, points, source}]}]}]}`.
 */
import { listTemplateSets } from '../../engine/store/templates.js';
import type { Command } from '../command.js';

export const templateListCommand: Command = {
  path: ['template', 'list'],
  summary: 'list template sets, their structures and template scans',
  usage: 'delineate template list [--db FILE] [--json]',
  flags: {},
  async run(_args, ctx) {
    return {
      sets: listTemplateSets(ctx.db()).map((s) => ({
        name: s.name,
        structures: s.structures.map((st) => ({
          name: st.name,
          color: st.color,
          members: st.members.map((m) => ({ seriesUid: m.seriesUid, points: m.points, source: m.source })),
        })),
      })),
    };
  },
  human(result) {
    const { sets } = result as { sets: { name: string; structures: { name: string; members: { seriesUid: string; source: string }[] }[] }[] };
    if (sets.length === 0) return '(no template sets)';
    return sets
      .map((s) => [`${s.name}`, ...s.structures.map((st) => `  ${st.name.padEnd(16)} ${st.members.map((m) => `${m.seriesUid} (${m.source})`).join(', ')}`)].join('\n'))
      .join('\n');
  },
};
