/** `delineate series list`: every series in the archive. JSON: `{series:[SeriesSummary...]}`. */
import type { SeriesSummary } from '../../api.js';
import { listSeries } from '../../engine/store/archive.js';
import type { Command } from '../command.js';

export const seriesListCommand: Command = {
  path: ['series', 'list'],
  summary: 'list the series in the archive',
  usage: 'delineate series list [--db FILE] [--json]',
  flags: {},
  async run(_args, ctx) {
    return { series: listSeries(ctx.db()) };
  },
  human(result) {
    const { series } = result as { series: SeriesSummary[] };
    if (series.length === 0) return '(no series)';
    return series
      .map((s) => `${s.seriesUid}  ${s.patientId}  ${s.modality}  ${s.dims.join('x')}  ${s.source}  ${s.description}`)
      .join('\n');
  },
};
