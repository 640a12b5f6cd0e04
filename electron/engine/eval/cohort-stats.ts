/**
 * Per-structure summaries of a cohort evaluation and its CSV.
 *
 * Mean ± standard deviation over the cases where a metric exists (nulls, i.e. distances to a surface
 * that is not there, are skipped and counted: `n` says how many values each mean holds). The
 * standard deviation is the population one (divide by n), as MedLSAM's result tables (np.std).
 */
import type { StructureMetrics } from '../metrics/evaluate.js';

export interface CaseMetrics extends StructureMetrics {
  /** The query case (series UID or cohort case id). */
  caseId: string;
}

export interface Stat {
  mean: number | null;
  std: number | null;
  n: number;
}

export interface CohortSummaryRow {
  name: string;
  cases: number;
  dice: Stat;
  hd95Mm: Stat;
  surfaceDice2mm: Stat;
  boxIou: Stat;
  wallDistanceMm: Stat;
  volumeDiffCc: Stat;
}

export const SUMMARY_METRICS = ['dice', 'hd95Mm', 'surfaceDice2mm', 'boxIou', 'wallDistanceMm', 'volumeDiffCc'] as const;

export function stat(values: (number | null)[]): Stat {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return { mean: null, std: null, n: 0 };
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  const variance = v.reduce((s, x) => s + (x - mean) * (x - mean), 0) / v.length;
  return { mean, std: Math.sqrt(variance), n: v.length };
}

/** One row per structure, in first-seen order. */
export function summarise(rows: CaseMetrics[]): CohortSummaryRow[] {
  const by = new Map<string, CaseMetrics[]>();
  for (const r of rows) {
    const list = by.get(r.name) ?? [];
    list.push(r);
    by.set(r.name, list);
  }
  return [...by.entries()].map(([name, list]) => ({
    name,
    cases: list.length,
    dice: stat(list.map((r) => r.dice)),
    hd95Mm: stat(list.map((r) => r.hd95Mm)),
    surfaceDice2mm: stat(list.map((r) => r.surfaceDice2mm)),
    boxIou: stat(list.map((r) => r.boxIou)),
    wallDistanceMm: stat(list.map((r) => r.wallDistanceMm)),
    volumeDiffCc: stat(list.map((r) => r.volumeDiffCc)),
  }));
}

const CASE_COLUMNS = [
  'case',
  'structure',
  'dice',
  'hd95_mm',
  'surface_dice_2mm',
  'box_iou',
  'wall_distance_mm',
  'volume_diff_cc',
  'reference_volume_cc',
  'prediction_volume_cc',
  'hausdorff_mm',
  'assd_mm',
  'status',
] as const;

function csvCell(v: string | number | null): string {
  if (v === null) return '';
  if (typeof v === 'number') return String(v);
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/**
 * The cohort as CSV: one line per (case, structure), then per structure a line with case `mean`, one
 * with `std` and one with `n` (values per metric). Empty cells are nulls.
 */
export function cohortCsv(rows: CaseMetrics[], summary: CohortSummaryRow[] = summarise(rows)): string {
  const lines = [CASE_COLUMNS.join(',')];
  for (const r of rows) {
    lines.push(
      [
        r.caseId,
        r.name,
        r.dice,
        r.hd95Mm,
        r.surfaceDice2mm,
        r.boxIou,
        r.wallDistanceMm,
        r.volumeDiffCc,
        r.referenceVolumeCc,
        r.predictionVolumeCc,
        r.hausdorffMm,
        r.assdMm,
        r.status,
      ]
        .map(csvCell)
        .join(','),
    );
  }
  for (const s of summary) {
    for (const what of ['mean', 'std', 'n'] as const) {
      const cell = (st: Stat): number | null => (what === 'n' ? st.n : st[what]);
      lines.push(
        [what, s.name, cell(s.dice), cell(s.hd95Mm), cell(s.surfaceDice2mm), cell(s.boxIou), cell(s.wallDistanceMm), cell(s.volumeDiffCc), null, null, null, null, '']
          .map(csvCell)
          .join(','),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
