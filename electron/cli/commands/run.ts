/**
 * `delineate run --set NAME (--series UID... | --all)`: localizes and segments every structure of a
 * template set on many series, in worker threads, with a progress bar on stderr. The run and its
 * items are stored before any work starts; re-running the same command resumes an interrupted run
 * (after a kill, a crash or Ctrl-C) and does nothing for a finished one unless --new is given;
 * with --all, series imported since the last run join it (a nightly `run --all` processes only what
 * arrived).
 * JSON: {runId, items:[{seriesUid, status, error?}]}. Exit status 0 once every item has finished,
 * even when some failed (their errors are in the output); 1 when the run stopped (cancelled, or the
 * backends could not be loaded), 2 for a usage error.
 */
import type { Command } from '../command.js';
import { bool, list, req, str } from '../args.js';
import { DelineateError, InputError } from '../../engine/errors.js';
import { startBatch } from '../../engine/jobs/batch.js';
import { createProgressPrinter } from '../../engine/jobs/progress.js';
import { defaultModelsDir } from '../../engine/paths.js';
import type { ItemStatus } from '../../engine/jobs/types.js';

export interface RunOutput {
  runId: number;
  items: { seriesUid: string; status: ItemStatus; error?: string }[];
}

export const runCommand: Command = {
  path: ['run'],
  summary: 'localize and segment a template set on many series (resumable batch)',
  usage:
    'delineate run --set NAME (--series UID... | --all) [--mode wpl|spl] [--workers N] [--models DIR] [--backend medlam|atlas] [--new] [--retry-failed] [--db FILE] [--json]',
  flags: {
    set: { type: 'string', description: 'template set name' },
    series: { type: 'list', description: 'series UIDs to process' },
    all: { type: 'boolean', description: 'every CT series of the archive except the set\'s templates' },
    mode: { type: 'string', description: 'wpl (whole structure, default) or spl (sub-patches)' },
    workers: { type: 'string', description: 'worker threads (default 1)' },
    models: { type: 'string', description: 'models folder (default: DELINEATE_MODELS or the per-user folder)' },
    backend: { type: 'string', description: 'force a backend: medlam (MedLAM + MedSAM) or atlas' },
    new: { type: 'boolean', description: 'start a new run even if this set and series were run before' },
    'retry-failed': { type: 'boolean', description: 'try the failed items of the resumed run again' },
  },
  async run(args, ctx): Promise<RunOutput> {
    const set = req(args, 'set');
    const series = list(args, 'series');
    const all = bool(args, 'all');
    if (all === series.length > 0) throw new InputError('option --series or --all is required (not both)');
    const mode = str(args, 'mode') ?? 'wpl';
    if (mode !== 'wpl' && mode !== 'spl') throw new InputError(`option --mode must be wpl or spl, not '${mode}'`);
    const workersText = str(args, 'workers') ?? '1';
    const workers = Number(workersText);
    if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new InputError(`option --workers must be an integer from 1 to 64, not '${workersText}'`);
    const backend = str(args, 'backend');
    const batch = startBatch({
      db: ctx.db(),
      dbPath: ctx.dbPath,
      request: { templateSet: set, series: all ? 'all' : series, mode, fresh: bool(args, 'new'), createdBy: process.env.USER ?? process.env.USERNAME ?? '' },
      workers,
      modelsDir: str(args, 'models') ?? defaultModelsDir(),
      ...(backend !== undefined ? { backend } : {}),
      retryFailed: bool(args, 'retry-failed'),
      signal: ctx.signal,
    });
    batch.events.on('event', createProgressPrinter((s) => process.stderr.write(s), process.stderr.isTTY === true));
    const res = await batch.done;
    if (res.status === 'cancelled') {
      throw new DelineateError('cancelled', `run ${batch.runId} of template set '${set}' was cancelled; run the same command again to resume it`, { templateSet: set });
    }
    return {
      runId: res.runId,
      items: res.items.map((i) => ({ seriesUid: i.seriesUid, status: i.status, ...(i.error ? { error: i.error.message } : {}) })),
    };
  },
  human(result) {
    const r = result as RunOutput;
    const lines = [`run ${r.runId}`];
    for (const i of r.items) lines.push(`  ${i.seriesUid}  ${i.status}${i.error ? `  ${i.error}` : ''}`);
    return lines.join('\n');
  },
};
