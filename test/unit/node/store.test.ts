import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { migrate, openDatabase, schemaVersion } from '../../../electron/engine/store/db.js';
import { MIGRATIONS } from '../../../electron/engine/store/migrations/index.js';
import { m006Node } from '../../../electron/engine/store/migrations/006_node.js';
import {
  addJob,
  closeAssociation,
  finishSeries,
  listJobs,
  markSeriesInterrupted,
  openAssociation,
  receivingSeries,
  recordInstance,
  requireNodeTables,
  updateJob,
} from '../../../electron/engine/node/store.js';
import { backoffMs } from '../../../electron/engine/node/jobs.js';
import { tempDir } from '../../helpers/data.js';

const peer = { callingAe: 'CT_SIM', calledAe: 'NODE', address: '10.0.0.9:4000' };
const instance = (sop: string, associationId: number) => ({
  associationId,
  peer,
  path: `/in/1.2/1.2.3/${sop}.dcm`,
  sopInstanceUid: sop,
  sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
  studyUid: '1.2',
  seriesUid: '1.2.3',
  modality: 'CT',
});

test('migration dicom-node: the previous schema keeps its runs and gains the node tables', (t) => {
  const before = MIGRATIONS.indexOf(m006Node);
  const db = openDatabase(join(tempDir(t), 'db.sqlite'), { targetVersion: before });
  t.after(() => db.close());
  assert.throws(() => requireNodeTables(db), /no DICOM node tables/);
  db.prepare(`INSERT INTO template_sets (name) VALUES ('hn')`).run();
  db.prepare(`INSERT INTO runs (set_id, selection) VALUES (1, '1.2.3')`).run();
  migrate(db, m006Node.version);
  assert.equal(schemaVersion(db), m006Node.version);
  assert.deepEqual(db.prepare('SELECT selection FROM runs').all(), [{ selection: '1.2.3' }]);
  requireNodeTables(db);
});

test('node store: series state follows its instances and associations; one job per series and rule', (t) => {
  const db = openDatabase(join(tempDir(t), 'db.sqlite'));
  t.after(() => db.close());
  const a1 = openAssociation(db, peer);
  recordInstance(db, instance('1.2.3.1', a1), '/in/1.2/1.2.3', 1000);
  recordInstance(db, instance('1.2.3.2', a1), '/in/1.2/1.2.3', 2000);
  recordInstance(db, instance('1.2.3.2', a1), '/in/1.2/1.2.3', 2500); // the same instance again: counted once
  closeAssociation(db, a1, 'aborted', { stored: 3, refused: 0 });
  markSeriesInterrupted(db, a1, true);
  let [s] = receivingSeries(db);
  assert.deepEqual([s!.instances, s!.lastMs, s!.interrupted, s!.callingAe], [2, 2500, true, 'CT_SIM']);
  // The sender comes back: a new instance clears the mark.
  const a2 = openAssociation(db, peer);
  recordInstance(db, instance('1.2.3.3', a2), '/in/1.2/1.2.3', 3000);
  [s] = receivingSeries(db);
  assert.deepEqual([s!.instances, s!.interrupted], [3, false]);
  finishSeries(db, '1.2.3', 'imported', 'hn', '3 instances');
  assert.deepEqual(receivingSeries(db), []);
  assert.equal(addJob(db, { seriesUid: '1.2.3', rule: 'hn', templateSet: 'hn', destination: 'TPS', sendMode: 'now' }), true);
  assert.equal(addJob(db, { seriesUid: '1.2.3', rule: 'hn', templateSet: 'hn', destination: 'TPS', sendMode: 'now' }), false, 'received again: no second job');
  const [j] = listJobs(db, 'open');
  updateJob(db, j!.id, { status: 'sending', attempts: 1, lastError: 'TPS@h:104: connection refused', nextAttemptMs: 99 });
  assert.deepEqual(listJobs(db, 'failing').map((x) => x.lastError), ['TPS@h:104: connection refused']);
  updateJob(db, j!.id, { status: 'sent', lastError: '', sent: true });
  assert.deepEqual(listJobs(db, 'open'), []);
  assert.notEqual(listJobs(db)[0]!.sentAt, null);
});

test('send backoff doubles from the base up to the cap', () => {
  const p = { baseMs: 1000, maxMs: 5000, maxAttempts: 10 };
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffMs(p, n)), [1000, 2000, 4000, 5000, 5000]);
});
