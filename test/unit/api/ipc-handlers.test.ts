/** The IPC channels: foreign sender frames are refused, requests validated, errors returned intact. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DelineateApi } from '../../../electron/api.js';
import { NotFoundError } from '../../../electron/engine/errors.js';
import { apiHandlers } from '../../../electron/main/ipc-handlers.js';

const calls: unknown[] = [];
const service = {
  async listSeries(req: unknown) {
    calls.push(req);
    return { series: [] };
  },
  async openVolume({ seriesUid }: { seriesUid: string }) {
    throw new NotFoundError(`series ${seriesUid} is not in the archive`, { seriesUid });
  },
} as unknown as DelineateApi;

test('IPC handlers check the sender, validate, and return envelopes', async () => {
  const h = apiHandlers(service, { chooseFolder: async () => ({ paths: ['/picked'] }) });
  const app = 'delineate://app/index.html';

  assert.deepEqual(await h.listSeries(app, {}), { result: { series: [] } });
  for (const sender of ['https://evil.example/', 'file:///tmp/x.html', undefined]) {
    const r = await h.listSeries(sender, {});
    assert.ok('error' in r && r.error.name === 'ForbiddenError', String(sender));
  }
  assert.equal(calls.length, 1, 'refused calls never reach the service');

  const bad = await h.openVolume(app, { seriesUid: 7 });
  assert.ok('error' in bad && bad.error.name === 'ApiValidationError' && bad.error.code === 'bad-input');
  const missing = await h.openVolume(app, { seriesUid: '1.2.3' });
  assert.ok('error' in missing);
  assert.deepEqual(missing.error, { name: 'NotFoundError', code: 'not-found', message: 'series 1.2.3 is not in the archive', context: { seriesUid: '1.2.3' } });
  assert.deepEqual(await h.chooseFolder(app, {}), { result: { paths: ['/picked'] } });
});
