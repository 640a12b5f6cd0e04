/**
 * `npm run bench -- studies [count]`: the Studies screen's search over an archive of 2,000 synthetic
 * series (test/helpers/synthetic-archive.ts: CT and MR, RTSTRUCTs, runs done and failed, results in
 * every review state), measured in the HTTP bridge as the renderer calls it (POST /api/searchSeries,
 * one page of 50). Baseline in the same run: POST /api/listSeries, every series at once, which is
 * what the screen loaded before it searched server-side. Target: a search under 300 ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SeriesSearchRequest } from '../../electron/api.js';
import { startBridge } from '../../electron/bridge/server.js';
import { createEngineService } from '../../electron/engine/service.js';
import { ENGINE_ARCHIVE } from '../../electron/engine/service-ports.js';
import { openDatabase } from '../../electron/engine/store/db.js';
import { writeSyntheticArchive } from '../helpers/synthetic-archive.js';

async function timed(url: string, method: string, body: unknown, repeats: number): Promise<{ median: number; p95: number; bytes: number; total?: number }> {
  const times: number[] = [];
  let bytes = 0;
  let total: number | undefined;
  for (let r = 0; r <= repeats; r++) {
    const t0 = performance.now();
    const res = await fetch(`${url}/api/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    const dt = performance.now() - t0;
    if (!res.ok) throw new Error(`${method}: HTTP ${res.status} ${text.slice(0, 200)}`);
    if (r === 0) {
      // The first call warms statements and the JIT; it is not counted.
      bytes = text.length;
      total = (JSON.parse(text) as { result: { total?: number } }).result.total;
      continue;
    }
    times.push(dt);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, p95: times[Math.min(times.length - 1, Math.floor(times.length * 0.95))]!, bytes, ...(total !== undefined ? { total } : {}) };
}

export async function bench(args: string[]): Promise<void> {
  const count = Number(args[0] ?? 2000);
  const dir = mkdtempSync(join(tmpdir(), 'delineate-bench-studies-'));
  const dbPath = join(dir, 'db.sqlite');
  try {
    const t0 = performance.now();
    const db = openDatabase(dbPath);
    writeSyntheticArchive(db, count);
    db.close();
    process.stdout.write(`archive: ${count} synthetic series written in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    const service = createEngineService({ dbPath, archive: ENGINE_ARCHIVE });
    const bridge = await startBridge({ service });
    try {
      const repeats = 20;
      const base = await timed(bridge.url, 'listSeries', {}, repeats);
      process.stdout.write(`baseline listSeries (all ${count} series): median ${base.median.toFixed(1)} ms, p95 ${base.p95.toFixed(1)} ms, ${(base.bytes / 1024).toFixed(0)} kB\n`);
      const queries: [string, SeriesSearchRequest][] = [
        ['first page, no filter', {}],
        ['patient id text', { text: 'SYN00123' }],
        ['patient name text (scan)', { text: 'patient4' }],
        ['modality MR', { modality: 'MR' }],
        ['study date range', { dateFrom: '20150101', dateTo: '20181231' }],
        ['run failed', { runState: 'failed' }],
        ['review pending', { reviewState: 'pending' }],
        ['CT + never run + page 10', { modality: 'CT', runState: 'none', offset: 450 }],
        ['last page', { offset: count - 50 }],
      ];
      for (const [name, q] of queries) {
        const r = await timed(bridge.url, 'searchSeries', { limit: 50, ...q }, repeats);
        process.stdout.write(
          `searchSeries ${name.padEnd(28)} median ${r.median.toFixed(1).padStart(6)} ms (x${(r.median / base.median).toFixed(2)} of baseline), p95 ${r.p95.toFixed(1).padStart(6)} ms, ${r.total} matches, ${(r.bytes / 1024).toFixed(0)} kB ${r.p95 < 300 ? 'under' : 'OVER'} 300 ms\n`,
        );
      }
    } finally {
      await bridge.close();
      service.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
