/** The worker-hosted engine service answers like the in-process one: results, voxels, errors intact. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startEngineHost } from '../../../electron/engine/service-host.js';
import { DelineateError } from '../../../electron/engine/errors.js';
import { writePhantomSeries } from '../../fixtures/phantom/phantom.js';
import { tempDir } from '../../helpers/data.js';

test('the engine runs in a worker thread: import, list, open, voxels, and errors with their context', async (t) => {
  const dir = tempDir(t);
  const phantom = writePhantomSeries(join(dir, 'ct'), { columns: 16, rows: 12, slices: 5 });
  const host = startEngineHost({ dbPath: join(dir, 'db.sqlite') });
  t.after(() => host.close());
  const progress: number[] = [];
  host.on('progress', (p) => progress.push(p.done));

  const r = await host.importPaths({ paths: [join(dir, 'ct')] });
  assert.equal(r.series[0]!.seriesUid, phantom.seriesUid);
  assert.equal((await host.listSeries({})).series.length, 1);
  const handle = await host.openVolume({ seriesUid: phantom.seriesUid });
  assert.deepEqual(handle.dims, [16, 12, 5]);
  const v = await host.volumeBytes(phantom.seriesUid);
  const bytesPerVoxel = v.dtype === 'float32' ? 4 : v.dtype === 'int16' ? 2 : 1;
  assert.equal(v.bytes.byteLength, 16 * 12 * 5 * bytesPerVoxel);
  assert.ok(progress.length > 0, 'progress events cross from the worker');

  await assert.rejects(host.openVolume({ seriesUid: '1.2.3.999' }), (e: unknown) => e instanceof DelineateError && e.message.includes('1.2.3.999'));
  await assert.rejects(
    host.saveTemplateMember({ set: 's', structure: 'X'.repeat(17), seriesUid: phantom.seriesUid, points: Array(6).fill([0, 0, 0]) }),
    (e: unknown) => e instanceof DelineateError && e.code === 'bad-input' && e.context.structure === 'X'.repeat(17),
  );
});
