/** Plain-text tables for `eval` and `eval cohort` when --json is absent. */
import type { StructureMetrics } from '../metrics/evaluate.js';
import type { CohortSummaryRow } from './cohort-stats.js';

function num(v: number | null, digits: number): string {
  return v === null ? '-' : v.toFixed(digits);
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]): string => cells.map((s, c) => (c === 0 ? s.padEnd(widths[c]!) : s.padStart(widths[c]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

export function formatMetricsTable(rows: StructureMetrics[]): string {
  return table(
    ['structure', 'Dice', 'HD95 mm', 'sDice 2mm', 'box IoU', 'wall mm', 'dVol cc', 'status'],
    rows.map((m) => [
      m.name,
      num(m.dice, 3),
      num(m.hd95Mm, 2),
      num(m.surfaceDice2mm, 3),
      num(m.boxIou, 3),
      num(m.wallDistanceMm, 2),
      num(m.volumeDiffCc, 2),
      m.status,
    ]),
  );
}

export function formatCohortTable(rows: CohortSummaryRow[]): string {
  const ms = (s: { mean: number | null; std: number | null; n: number }, digits: number): string =>
    s.mean === null ? '-' : `${s.mean.toFixed(digits)} ± ${(s.std ?? 0).toFixed(digits)}`;
  return table(
    ['structure', 'n', 'Dice', 'HD95 mm', 'sDice 2mm', 'box IoU', 'wall mm'],
    rows.map((r) => [
      r.name,
      String(r.cases),
      ms(r.dice, 3),
      ms(r.hd95Mm, 2),
      ms(r.surfaceDice2mm, 3),
      ms(r.boxIou, 3),
      ms(r.wallDistanceMm, 2),
    ]),
  );
}
