// Child process of the batch benchmark (test/bench/batch.ts), so each measurement has its own peak
// RSS. usage: node --import tsx _batch-child.ts (direct|cli) OUT.json DB SET SERIES...
//   direct: the pipeline's work function called series after series on this thread, nothing stored
//           (the cost of the computation alone, the baseline);
//   cli:    `delineate run` in this process (queue, worker thread, one transaction per series).
import { writeFileSync } from 'node:fs';
import { main } from '../../electron/cli/main.js';
import { createWork } from '../../electron/engine/jobs/pipeline.js';
import { openDatabase } from '../../electron/engine/store/db.js';

const [mode, out, db, set, ...series] = process.argv.slice(2);
if (!mode || !out || !db || !set) throw new Error('usage: _batch-child.ts (direct|cli) OUT.json DB SET SERIES...');
const t0 = performance.now();
let backends = '';
if (mode === 'direct') {
  const conn = openDatabase(db);
  const work = await createWork({ dbPath: db, ...(process.env.DELINEATE_MODELS ? { modelsDir: process.env.DELINEATE_MODELS } : {}) });
  backends = `${work.backends.localizer} + ${work.backends.segmenter}`;
  const signal = new AbortController().signal;
  for (const [i, s] of series.entries()) {
    await work.process({ runId: 0, itemId: i, seriesUid: s, templateSet: set, mode: 'wpl' }, { db: conn, signal, onProgress: () => undefined });
  }
  await work.close?.();
  conn.close();
} else {
  const origWrite = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  const code = await main(['run', '--set', set, '--series', ...series, '--db', db, '--json']);
  process.stdout.write = origWrite;
  if (code !== 0) throw new Error(`delineate run exited with ${code}`);
}
const ms = performance.now() - t0;
writeFileSync(out, JSON.stringify({ ms, maxRssKb: process.resourceUsage().maxRSS, backends }));
