/**
 * The api contract over the bridge: validators reject bad input before the engine sees it, engine
 * errors cross intact (name, code, context), volumes arrive as raw typed arrays, events reach
 * WebSocket subscribers, and foreign origins are refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket as WsWebSocket } from 'ws';
import { API_METHODS, API_METHOD_NAMES } from '../../../electron/api-methods.js';
import { ApiValidationError, type Vec3 } from '../../../electron/api.js';
import { startBridge } from '../../../electron/bridge/server.js';
import { createEngineService } from '../../../electron/engine/service.js';
import { DelineateError } from '../../../electron/engine/errors.js';
import { createBridgeClient } from '../../../renderer/src/lib/client.js';
import { fakeArchive, FAKE_SERIES } from './fake-archive.js';
import { writeNifti } from '../../../electron/engine/nifti/nifti.js';
import { voxelToPatient } from '../../../electron/engine/volume/geometry.js';
import { tempDir } from '../../helpers/data.js';
import { join } from 'node:path';

const SIX: Vec3[] = [
  [-10, 0, 0],
  [10, 1, 0],
  [0, -20, 2],
  [1, 20, 1],
  [0, 0, -30],
  [2, 2, 30],
];

test('every api method has a validator that rejects a non-object request', () => {
  assert.ok(API_METHOD_NAMES.length >= 10);
  for (const name of API_METHOD_NAMES) {
    assert.throws(() => API_METHODS[name](null), ApiValidationError, name);
    assert.throws(() => API_METHODS[name]([]), ApiValidationError, name);
  }
  assert.throws(() => API_METHODS.saveTemplateMember({ set: 's', structure: 'Heart', seriesUid: '1', points: SIX.slice(1) }), /six/);
  assert.throws(() => API_METHODS.saveTemplateMember({ set: 's', structure: 'Heart', seriesUid: '1', points: [...SIX.slice(1), [0, 0, Infinity]] }), /finite/);
  assert.throws(() => API_METHODS.importPaths({ paths: ['a', 3] }), /paths/);
  assert.throws(() => API_METHODS.listSeries(undefined), ApiValidationError);
  assert.throws(() => API_METHODS.listStructures({ extra: 1 }), /no arguments/);
  assert.throws(() => API_METHODS.deriveTemplatesFromLabels({ set: 's', seriesUid: '1', labelsPath: 'x', names: { 1: 5 } }), /names/);
});

test('the bridge serves the api: results, errors intact, raw voxels, events, origin checks', async (t) => {
  const service = createEngineService({ dbPath: ':memory:', archive: fakeArchive() });
  const bridge = await startBridge({ service });
  const client = createBridgeClient(bridge.url, { WebSocket: WsWebSocket as unknown as typeof WebSocket });
  t.after(async () => {
    client.close();
    await bridge.close();
    service.close();
  });

  const events: unknown[] = [];
  client.onEvent((event, payload) => events.push({ event, payload }));
  await new Promise((r) => setTimeout(r, 100)); // let the WebSocket open

  const imported = await client.importPaths({ paths: ['/data/ct'] });
  assert.equal(imported.series[0]!.seriesUid, FAKE_SERIES.seriesUid);
  assert.equal(imported.warnings[0]!.message, 'fake warning');
  assert.equal((await client.listSeries({})).series.length, 1);

  const handle = await client.openVolume({ seriesUid: FAKE_SERIES.seriesUid });
  assert.equal(handle.dtype, 'int16', 'integral float CT is sent as int16');
  assert.deepEqual(handle.direction, FAKE_SERIES.direction);
  const voxels = await client.fetchVoxels(handle);
  assert.ok(voxels instanceof Int16Array);
  assert.deepEqual(Array.from(voxels.slice(0, 4)), [-100, -90, -80, -70]);

  const saved = await client.saveTemplateMember({ set: 'thorax', structure: 'Heart', seriesUid: FAKE_SERIES.seriesUid, points: [...SIX].reverse() });
  assert.deepEqual(saved.points, SIX, 'points come back in slot order');
  const sets = await client.listTemplateSets({});
  assert.equal(sets.sets[0]!.structures[0]!.members[0]!.seriesUid, FAKE_SERIES.seriesUid);
  assert.ok((await client.listStructures({})).structures.some((s) => s.name === 'SpinalCord'));

  // An engine error crosses with its class name, code and context.
  await assert.rejects(
    client.deleteTemplateMember({ set: 'thorax', structure: 'Liver', seriesUid: FAKE_SERIES.seriesUid }),
    (e: unknown) => e instanceof DelineateError && e.name === 'NotFoundError' && e.code === 'not-found' && e.context.structure === 'Liver',
  );
  await assert.rejects(client.openVolume({ seriesUid: '9.9.9' }), (e: unknown) => e instanceof DelineateError && e.context.seriesUid === '9.9.9');
  // A bad request is refused by the validator, not by the engine.
  await assert.rejects(
    client.saveTemplateMember({ set: 'thorax', structure: 'Heart', seriesUid: FAKE_SERIES.seriesUid, points: SIX.slice(0, 2) }),
    (e: unknown) => e instanceof DelineateError && e.name === 'ApiValidationError' && e.code === 'bad-input',
  );
  const raw = await fetch(`${bridge.url}/api/importPaths`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"paths": "x"}' });
  assert.equal(raw.status, 400);
  const unknown = await fetch(`${bridge.url}/api/dropDatabase`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(unknown.status, 400);
  const foreign = await fetch(`${bridge.url}/api/listSeries`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: 'http://evil.example' },
    body: '{}',
  });
  assert.equal(foreign.status, 403);
  await assert.rejects(client.chooseFolder({}), (e: unknown) => e instanceof DelineateError && e.code === 'unsupported');

  // Label-map derive over the api: a 2x2x1 block on the series grid gives its corner voxels' positions.
  const labels = join(tempDir(t), 'labels.nii.gz');
  const data = new Uint8Array(24);
  for (const [i, j] of [[1, 1], [2, 1], [1, 2], [2, 2]] as const) data[i + 4 * j] = 3;
  writeNifti(labels, { dims: FAKE_SERIES.dims, spacing: FAKE_SERIES.spacing, origin: FAKE_SERIES.origin, direction: FAKE_SERIES.direction, data });
  const derived = await client.deriveTemplatesFromLabels({ set: 'derived', seriesUid: FAKE_SERIES.seriesUid, labelsPath: labels, names: { 3: 'Spleen' } });
  assert.equal(derived.structures[0]!.name, 'Spleen');
  const [right, left] = derived.structures[0]!.points;
  assert.equal(right![0], voxelToPatient(FAKE_SERIES, [1, 0, 0])[0]);
  assert.equal(left![0], voxelToPatient(FAKE_SERIES, [2, 0, 0])[0]);
  await assert.rejects(
    client.deriveTemplatesFromLabels({ set: 'derived', seriesUid: FAKE_SERIES.seriesUid, labelsPath: join(tempDir(t), 'missing.nii.gz'), names: { 3: 'Spleen' } }),
    (e: unknown) => e instanceof DelineateError && e.message.includes('missing.nii.gz'),
  );

  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(events, [{ event: 'progress', payload: { task: 'import', done: 1, total: 1, message: 'done' } }]);
});
