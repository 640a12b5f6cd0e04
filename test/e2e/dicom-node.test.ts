/**
 * The DICOM node screen in Chromium over the bridge: a rules mistake is shown naming the field and
 * nothing starts; valid rules start the node (it answers C-ECHO from an allowed AE title and rejects
 * another), the associations table shows both, and Stop stops it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { buildRenderer, chromiumMissing, startApp } from './harness.js';
import { echo } from '../../electron/engine/dimse/client.js';
import { parseDestination } from '../../electron/engine/dimse/destination.js';

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

test('DICOM node screen: rules checked, start, associations listed, stop', { timeout: 180_000 }, async (t) => {
  const missing = chromiumMissing();
  if (missing) return t.skip(missing);
  const app = await startApp({ staticDir: buildRenderer() });
  t.after(() => app.close());
  const { page } = app;
  await page.click('[data-tab="node"]');
  await page.waitForSelector('[data-state="stopped"]', { timeout: 30_000 });
  const port = await freePort();
  await page.fill('[data-field="port"]', String(port));
  await page.fill('[data-field="rules"]', '{"rules": [{"name": "hn", "templateSet": "hn", "destination": "TPS", "send": "later"}]}');
  await page.click('[data-action="start"]');
  await page.waitForFunction(() => /send: must be/.test((globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document.querySelector('[data-field="rules-check"]')?.textContent ?? ''), undefined, { timeout: 30_000 });
  assert.match((await page.textContent('[data-field="rules-check"]')) ?? '', /rules\.rules\[0\]\.send: must be "now" or "after-approval"/);
  assert.ok(await page.$('[data-state="stopped"]'), 'nothing started');

  await page.fill('[data-field="rules"]', '{"allowedCallingAeTitles": ["CT_SIM"], "rules": []}');
  await page.click('[data-action="start"]');
  await page.waitForSelector('[data-state="running"]', { timeout: 30_000 });
  assert.match((await page.textContent('[data-state="running"]')) ?? '', new RegExp(`listening as DELINEATE on \\*:${port}`));
  await echo(parseDestination(`DELINEATE@127.0.0.1:${port}`, { callingAeTitle: 'CT_SIM', timeoutMs: 5000 }));
  await assert.rejects(echo(parseDestination(`DELINEATE@127.0.0.1:${port}`, { callingAeTitle: 'EVIL', timeoutMs: 5000 })), /calling AE title not recognized/);
  await page.waitForFunction(() => ((globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll('[data-table="associations"] tbody tr').length >= 2), undefined, { timeout: 30_000 });
  const rows = await page.$$eval('[data-table="associations"] tbody tr', (trs) => trs.map((tr) => (tr as unknown as { textContent: string }).textContent));
  assert.ok(rows.some((r) => /EVIL.*rejected/.test(r)) && rows.some((r) => /CT_SIM.*released/.test(r)), JSON.stringify(rows));
  await page.click('[data-action="stop"]');
  await page.waitForSelector('[data-state="stopped"]', { timeout: 30_000 });
  assert.deepEqual(app.pageErrors, []);
});
