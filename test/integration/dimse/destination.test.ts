import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeReject, storeStatusKind } from '../../../electron/engine/dimse/client.js';
import { formatDestination, parseDestination } from '../../../electron/engine/dimse/destination.js';

test('destinations parse from AET@HOST:PORT and refuse what a peer would refuse', () => {
  const d = parseDestination('ECLIPSE@tps.hospital.org:104', { callingAeTitle: 'PLANNER' });
  assert.deepEqual(d, { aeTitle: 'ECLIPSE', host: 'tps.hospital.org', port: 104, callingAeTitle: 'PLANNER', timeoutMs: 30000 });
  assert.equal(formatDestination(parseDestination('PACS@[fe80::1]:11112')), 'PACS@[fe80::1]:11112');
  assert.throws(() => parseDestination('ECLIPSE@host'), /not AET@HOST:PORT/);
  assert.throws(() => parseDestination('ECLIPSE@host:0'), /port/);
  assert.throws(() => parseDestination('ECLIPSE@host:70000'), /port/);
  assert.throws(() => parseDestination('A_VERY_LONG_AE_TITLE@host:104'), /1-16 characters/);
  assert.throws(() => parseDestination('OK@host:104', { callingAeTitle: 'BAD\\AE' }), /calling AE title/);
});

test('association rejections and C-STORE statuses are described per PS3.8 and PS3.4', () => {
  assert.equal(describeReject({ result: 1, source: 1, reason: 7 }), 'permanent rejection: called AE title not recognized');
  assert.equal(describeReject({ result: 2, source: 3, reason: 1 }), 'transient rejection: temporary congestion');
  assert.equal(storeStatusKind(0), 'success');
  assert.equal(storeStatusKind(0xb000), 'warning');
  assert.equal(storeStatusKind(0xb007), 'warning');
  assert.equal(storeStatusKind(0xa700), 'failure');
  assert.equal(storeStatusKind(0xa900), 'failure');
  assert.equal(storeStatusKind(0xc000), 'failure');
});
