import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProgressPrinter, EtaEstimator, formatDuration, progressBar } from '../../../electron/engine/jobs/progress.js';
import type { RunEvent } from '../../../electron/engine/jobs/types.js';

test('ETA is the mean of recent item durations times the items left, shared by the workers', () => {
  const e = new EtaEstimator(2);
  assert.equal(e.etaMs(5), null);
  e.add(1000);
  e.add(3000);
  assert.equal(e.etaMs(4), 4000);
  for (let i = 0; i < 20; i++) e.add(500);
  assert.equal(e.etaMs(2), 500, 'only the last 20 count');
});

test('durations and bars read as a person expects', () => {
  assert.equal(formatDuration(null), '--');
  assert.equal(formatDuration(42_400), '42s');
  assert.equal(formatDuration(125_000), '2m05s');
  assert.equal(formatDuration(3 * 3_600_000 + 7 * 60_000), '3h07m');
  assert.equal(progressBar(1, 4, 8), '[##......]');
  assert.equal(progressBar(0, 0, 4), '[####]');
});

test('without a terminal the printer writes one line per event that matters, failures with their reason', () => {
  const lines: string[] = [];
  const p = createProgressPrinter((s) => lines.push(s), false);
  const events: RunEvent[] = [
    { type: 'run-started', runId: 3, templateSet: 'HN', total: 2, done: 0, failed: 0, resumed: false },
    { type: 'backends', runId: 3, backends: { localizer: 'atlas', segmenter: 'medsam', models: [{ name: 'sam-encoder', sha256: '0123456789abcdef' }] } },
    { type: 'item-started', runId: 3, itemId: 1, seriesUid: '1.2.3' },
    { type: 'item-progress', runId: 3, itemId: 1, seriesUid: '1.2.3', progress: { done: 1, total: 2, message: 'segment' } },
    { type: 'item-finished', runId: 3, itemId: 1, seriesUid: '1.2.3', outcome: { status: 'failed', error: { name: 'InputError', code: 'bad-input', message: 'truncated pixel data in a.dcm', context: {} } }, durationMs: 10 },
    { type: 'run-progress', runId: 3, total: 2, done: 0, failed: 1, running: 0, etaMs: 10 },
    { type: 'run-finished', runId: 3, status: 'done', total: 2, done: 1, failed: 1 },
  ];
  for (const e of events) p(e);
  assert.deepEqual(lines, [
    'run 3 (HN): 2 series\n',
    'backends: atlas + medsam (sam-encoder 0123456789ab)\n',
    'series 1.2.3 failed: truncated pixel data in a.dcm\n',
    '[############............] 1/2 series, 1 failed, ETA 0s\n',
    'run 3 done: 1 done, 1 failed of 2\n',
  ]);
});
