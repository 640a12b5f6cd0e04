// The review screen's audit warning gets its answer through the api (verifyAudit), over the bridge
// as the renderer calls it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { WebSocket as WsWebSocket } from 'ws';
import { startBridge } from '../../../electron/bridge/server.js';
import { createEngineService } from '../../../electron/engine/service.js';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { recordAudit } from '../../../electron/engine/audit/audit.js';
import { createBridgeClient } from '../../../renderer/src/lib/client.js';
import { fakeArchive } from '../api/fake-archive.js';
import { tempDir } from '../../helpers/data.js';

test('verifyAudit over the bridge: ok, then the first edited entry', async (t) => {
  const file = join(tempDir(t), 'db.sqlite');
  const db = openDatabase(file);
  t.after(() => db.close());
  for (const actor of ['A', 'B', 'C']) recordAudit(db, { actor, actorKind: 'user', action: 'approved', seriesUid: '1.2.3', structure: 'Brainstem' });
  const service = createEngineService({ dbPath: file, archive: fakeArchive() });
  const bridge = await startBridge({ service });
  const client = createBridgeClient(bridge.url, { WebSocket: WsWebSocket as unknown as typeof WebSocket });
  t.after(async () => {
    client.close();
    await bridge.close();
    service.close();
  });
  const ok = await client.verifyAudit({});
  assert.deepEqual([ok.ok, ok.entries, ok.firstBroken], [true, 3, undefined]);
  db.exec(`UPDATE audit SET actor = 'Z' WHERE id = 2`);
  const bad = await client.verifyAudit({});
  assert.deepEqual([bad.ok, bad.firstBroken?.id, bad.firstBroken?.reason], [false, 2, 'edited']);
});
