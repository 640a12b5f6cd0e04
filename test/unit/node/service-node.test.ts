import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { API_METHODS } from '../../../electron/api-methods.js';
import { ApiValidationError } from '../../../electron/api.js';
import { createNodeService } from '../../../electron/engine/service-node.js';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { echo } from '../../../electron/engine/dimse/client.js';
import { parseDestination } from '../../../electron/engine/dimse/destination.js';
import { tempDir } from '../../helpers/data.js';

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

test('api: node requests are validated at the boundary', () => {
  assert.throws(() => API_METHODS.nodeStart({ aeTitle: 'X', port: 70000 }), ApiValidationError);
  assert.throws(() => API_METHODS.nodeStart({ aeTitle: 'X', port: 104, quietSeconds: -1 }), /quietSeconds/);
  assert.deepEqual(API_METHODS.nodeStart({ aeTitle: 'X', port: 104, quietSeconds: 2, rules: '{}' }), { aeTitle: 'X', port: 104, quietSeconds: 2, rules: '{}' });
  assert.throws(() => API_METHODS.pacsSearch({ from: 'P@h:1' }), /exactly one of 'patientId' and 'studyUid'/);
  assert.deepEqual(API_METHODS.pacsSearch({ from: 'P@h:1', patientId: 'X1', modality: 'CT' }), { from: 'P@h:1', patientId: 'X1', modality: 'CT' });
});

test('node service: rules are validated with the field named; start, answer C-ECHO, status, stop', async (t) => {
  const dbPath = join(tempDir(t), 'db.sqlite');
  const db = openDatabase(dbPath);
  const svc = createNodeService({ db, dbPath });
  t.after(async () => {
    await svc.stopNode();
    db.close();
  });
  await assert.rejects(svc.nodeValidateRules({ rules: '{"rules": [{"name": "a"}]}' }), /rules\.rules\[0\]\.destination: must be a non-empty string/);
  await assert.rejects(svc.nodeValidateRules({ rules: '{' }), /rules are not valid JSON/);
  assert.deepEqual(await svc.nodeValidateRules({ rules: '{"allowedCallingAeTitles": ["CT"], "rules": []}' }), { rules: 0, allowedCallingAeTitles: ['CT'] });
  assert.equal((await svc.nodeStatus({})).running, null);
  const port = await freePort();
  const started = await svc.nodeStart({ aeTitle: 'NODE', port, bind: '127.0.0.1', rules: '{"allowedCallingAeTitles": ["CT"], "rules": []}' });
  assert.deepEqual(started.running, { aeTitle: 'NODE', port, bind: '127.0.0.1', rules: 0 });
  await assert.rejects(svc.nodeStart({ aeTitle: 'NODE', port }), /already running/);
  await echo(parseDestination(`NODE@127.0.0.1:${port}`, { callingAeTitle: 'CT', timeoutMs: 5000 }));
  await assert.rejects(echo(parseDestination(`NODE@127.0.0.1:${port}`, { callingAeTitle: 'OTHER', timeoutMs: 5000 })), /calling AE title not recognized/);
  await new Promise((r) => setTimeout(r, 200));
  const st = await svc.nodeStatus({});
  assert.deepEqual(st.associations.map((a) => [a.callingAe, a.outcome]), [['OTHER', 'rejected'], ['CT', 'released']]);
  assert.equal((await svc.nodeStop({})).running, null);
});
