/**
 * Progress figures for a run: an ETA from the items finished in this session, and the one-line
 * progress bar the CLI draws on stderr (redrawn in place on a terminal, one line per finished item
 * otherwise, so that logs of an overnight run stay readable).
 */
import type { RunEvent } from './types.js';

export class EtaEstimator {
  private readonly durations: number[] = [];

  constructor(private readonly concurrency: number) {}

  add(ms: number): void {
    this.durations.push(ms);
  }

  /** Milliseconds until `remaining` items are done, or null before the first item finishes. */
  etaMs(remaining: number): number | null {
    if (this.durations.length === 0) return null;
    // Mean of the last 20: recent items predict the next ones better than the first (cold caches).
    const recent = this.durations.slice(-20);
    const mean = recent.reduce((a, b) => a + b, 0) / recent.length;
    return (mean * remaining) / Math.max(1, this.concurrency);
  }
}

export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '--';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function progressBar(done: number, total: number, width = 24): string {
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const full = Math.round(frac * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

/** Turns run events into stderr lines; `write` receives text including any '\r' or '\n'. */
export function createProgressPrinter(write: (s: string) => void, tty: boolean): (e: RunEvent) => void {
  let current = '';
  let last = { total: 0, done: 0, failed: 0, etaMs: null as number | null };
  const line = (): string => {
    const finished = last.done + last.failed;
    const failed = last.failed > 0 ? `, ${last.failed} failed` : '';
    return `${progressBar(finished, last.total)} ${finished}/${last.total} series${failed}, ETA ${formatDuration(last.etaMs)}${current ? `  ${current}` : ''}`;
  };
  const redraw = (): void => {
    if (tty) write(`\r\u001b[2K${line()}`);
  };
  return (e) => {
    switch (e.type) {
      case 'run-started':
        last = { total: e.total, done: e.done, failed: e.failed, etaMs: null };
        write(`run ${e.runId} (${e.templateSet}): ${e.total} series${e.resumed ? `, resuming with ${e.done + e.failed} finished` : ''}\n`);
        break;
      case 'backends':
        write(`backends: ${e.backends.localizer} + ${e.backends.segmenter}${e.backends.models.length ? ` (${e.backends.models.map((m) => `${m.name} ${m.sha256.slice(0, 12)}`).join(', ')})` : ''}\n`);
        for (const n of e.backends.notes ?? []) write(`  ${n}\n`);
        break;
      case 'item-started':
        current = e.seriesUid;
        redraw();
        break;
      case 'item-progress':
        current = `${e.seriesUid}: ${e.progress.message ?? ''} ${e.progress.done}/${e.progress.total}`.replace(/\s+/g, ' ');
        redraw();
        break;
      case 'item-finished':
        current = '';
        if (e.outcome.status === 'failed') {
          write(`${tty ? '\r\u001b[2K' : ''}series ${e.seriesUid} failed: ${e.outcome.error.message}\n`);
        } else if (!tty) {
          write(`series ${e.seriesUid} ${e.outcome.status} (${formatDuration(e.durationMs)})\n`);
        }
        break;
      case 'run-progress':
        last = { total: e.total, done: e.done, failed: e.failed, etaMs: e.etaMs };
        if (tty) redraw();
        else if (e.done + e.failed > 0) write(`${line()}\n`);
        break;
      case 'run-finished':
        if (tty) write('\r\u001b[2K');
        write(`run ${e.runId} ${e.status}: ${e.done} done, ${e.failed} failed of ${e.total}\n`);
        break;
      default: {
        const never: never = e;
        throw new Error(`unknown run event ${JSON.stringify(never)}`);
      }
    }
  };
}
