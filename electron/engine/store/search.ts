/**
 * Server-side search of the archive for the Studies screen (issue 16: "pages through thousands of
 * series without loading them all"): filters by text (patient id or name, study or series
 * description, series UID), modality, study date range, run state and review state, and returns one
 * page with the total count. Each row says whether the archive holds RTSTRUCTs for the series and
 * how many results it has in each review state.
 *
 * Run state: the status of the series' most recent run item ('none' when it was never run).
 * Review state: 'none' (no results), 'pending' (at least one result awaits review), 'rejected' (none
 * pending, at least one rejected), 'approved' (every result approved).
 */
import type { SeriesSearchRequest, SeriesSearchResult } from '../../api.js';
import { InputError } from '../errors.js';
import { SERIES_SELECT, toSummary, type SeriesRow } from './archive.js';
import type { Db } from './db.js';

export const SEARCH_PAGE_MAX = 200;

interface SearchRow extends SeriesRow {
  rtstructs: number;
  results: number;
  pending: number;
  approved: number;
  rejected: number;
  run_state: string | null;
}

const RUN_STATE = `(SELECT ri.status FROM run_items ri WHERE ri.series_uid = s.series_uid ORDER BY ri.id DESC LIMIT 1)`;
const COUNT = (state: string): string => `(SELECT COUNT(*) FROM results r WHERE r.series_uid = s.series_uid${state ? ` AND r.review_state = '${state}'` : ''})`;
const REVIEW_STATE = `CASE WHEN ${COUNT('')} = 0 THEN 'none' WHEN ${COUNT('pending')} > 0 THEN 'pending'
  WHEN ${COUNT('rejected')} > 0 THEN 'rejected' ELSE 'approved' END`;

const DATE = /^\d{8}$/;

export function searchSeries(db: Db, req: SeriesSearchRequest): SeriesSearchResult {
  const where: string[] = [];
  const params: (string | number)[] = [];
  const text = req.text?.trim();
  if (text) {
    // LIKE with the wildcards of the user's text escaped: a '%' or '_' typed is a literal.
    const like = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    where.push(`(p.patient_id LIKE ? ESCAPE '\\' OR p.name LIKE ? ESCAPE '\\' OR s.description LIKE ? ESCAPE '\\' OR st.description LIKE ? ESCAPE '\\' OR s.series_uid LIKE ? ESCAPE '\\')`);
    params.push(like, like, like, like, like);
  }
  if (req.modality) {
    where.push('s.modality = ?');
    params.push(req.modality);
  }
  for (const [key, op] of [['dateFrom', '>='], ['dateTo', '<=']] as const) {
    const v = req[key];
    if (v === undefined || v === '') continue;
    if (!DATE.test(v)) throw new InputError(`search: '${key}' must be a DICOM date YYYYMMDD, got '${v}'`);
    where.push(`st.study_date ${op} ?`);
    params.push(v);
  }
  if (req.runState) {
    if (req.runState === 'none') where.push(`${RUN_STATE} IS NULL`);
    else {
      where.push(`${RUN_STATE} = ?`);
      params.push(req.runState);
    }
  }
  if (req.reviewState) {
    where.push(`(${REVIEW_STATE}) = ?`);
    params.push(req.reviewState);
  }
  const offset = req.offset ?? 0;
  const limit = Math.min(req.limit ?? 50, SEARCH_PAGE_MAX);
  if (!Number.isInteger(offset) || offset < 0) throw new InputError(`search: 'offset' must be a non-negative integer, got ${offset}`);
  if (!Number.isInteger(limit) || limit < 1) throw new InputError(`search: 'limit' must be a positive integer, got ${limit}`);
  const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  const total = (db.prepare(`SELECT COUNT(*) AS n FROM series s JOIN studies st ON st.study_uid = s.study_uid JOIN patients p ON p.id = st.patient_ref ${clause}`).get(...params) as { n: number }).n;
  const rows = db
    .prepare(
      `${SERIES_SELECT.replace(
        'AS instances',
        `AS instances,
         (SELECT COUNT(*) FROM objects o WHERE o.referenced_series_uid = s.series_uid AND o.modality = 'RTSTRUCT') AS rtstructs,
         ${COUNT('')} AS results, ${COUNT('pending')} AS pending, ${COUNT('approved')} AS approved, ${COUNT('rejected')} AS rejected,
         ${RUN_STATE} AS run_state`,
      )} ${clause} ORDER BY p.patient_id, st.study_date, s.series_number, s.series_uid LIMIT ? OFFSET ?`,
    )
    .all(...params, limit, offset) as SearchRow[];
  return {
    total,
    offset,
    series: rows.map((r) => ({
      ...toSummary(r),
      rtstructs: r.rtstructs,
      results: { total: r.results, pending: r.pending, approved: r.approved, rejected: r.rejected },
      runState: (r.run_state ?? 'none') as SeriesSearchResult['series'][number]['runState'],
    })),
  };
}
