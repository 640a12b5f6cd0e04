/**
 * The node's SCP on its own (no root needed: it binds 127.0.0.1, and the peers are clients): an
 * acknowledged instance is in the incoming folder with the sender's data set unchanged, no `.part`
 * file is left, the called and calling AE checks reject at association with the PS3.8 reasons, and
 * DICOM TLS works with dcmtk's echoscu. Needs dcmtk (storescu, echoscu, dcmdump) and openssl.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StoreReceiver, type ReceiverHooks, type StoredInstance } from '../../../electron/engine/node/scp.js';
import { echo } from '../../../electron/engine/dimse/client.js';
import { parseDestination } from '../../../electron/engine/dimse/destination.js';
import { writePhantomSeries } from '../../fixtures/phantom/phantom.js';
import { tempDir } from '../../helpers/data.js';
import { storescu } from './harness.js';

const TOOLS = ['/usr/bin/storescu', '/usr/bin/echoscu', '/usr/bin/dcmdump', '/usr/bin/openssl'];

function recorder(): { hooks: ReceiverHooks; stored: StoredInstance[]; rejected: string[]; closed: string[] } {
  const stored: StoredInstance[] = [];
  const rejected: string[] = [];
  const closed: string[] = [];
  let id = 0;
  return {
    stored,
    rejected,
    closed,
    hooks: {
      opened: () => ++id,
      rejected: (_p, reason) => rejected.push(reason),
      stored: (i) => stored.push(i),
      refused: () => undefined,
      closed: (_id, outcome, counts) => closed.push(`${outcome} ${counts.stored}/${counts.refused}`),
    },
  };
}

/** dcmdump of everything but the file meta group, for comparing data sets. */
function dataSetDump(file: string): string {
  const out = spawnSync('/usr/bin/dcmdump', ['-q', file], { encoding: 'utf8' }).stdout;
  return out
    .split('\n')
    .filter((l) => /^\(/.test(l.trim()) && !/^\(0002,/.test(l.trim()))
    .join('\n');
}

async function withReceiver(t: TestContext, opts: Partial<ConstructorParameters<typeof StoreReceiver>[0]> & { incomingDir: string }): Promise<{ r: StoreReceiver; rec: ReturnType<typeof recorder> }> {
  const rec = recorder();
  const r = new StoreReceiver({ aeTitle: 'NODE', port: 0, bind: '127.0.0.1', hooks: rec.hooks, ...opts });
  await r.listen();
  t.after(() => r.close());
  return { r, rec };
}

test('SCP: acknowledged instances are in place with the data set as sent; nothing partial is left', async (t) => {
  const missing = TOOLS.filter((p) => !existsSync(p));
  if (missing.length) return t.skip(`needs ${missing.join(', ')} (Debian: dcmtk openssl)`);
  const dir = tempDir(t);
  const series = writePhantomSeries(join(dir, 'src'), { seed: 'receiver', columns: 16, rows: 16, slices: 4 });
  const { r, rec } = await withReceiver(t, { incomingDir: join(dir, 'incoming'), allowedCallingAes: ['SENDER'] });
  const sent = await storescu('SENDER', r.port, series.files.map((f) => f.path), 'NODE');
  assert.equal(sent.status, 0, sent.output);
  assert.equal(rec.stored.length, 4);
  for (const f of series.files) {
    const got = rec.stored.find((s) => s.sopInstanceUid === f.sopInstanceUid)!;
    assert.equal(got.path, join(dir, 'incoming', series.studyUid, series.seriesUid, `${f.sopInstanceUid}.dcm`));
    assert.equal(dataSetDump(got.path), dataSetDump(f.path), `data set of ${f.sopInstanceUid} unchanged`);
  }
  assert.match(spawnSync('/usr/bin/dcmdump', ['-q', '+P', '0002,0016', rec.stored[0]!.path], { encoding: 'utf8' }).stdout, /\[SENDER\]/, 'source AE title in the file meta');
  assert.deepEqual(readdirSync(join(dir, 'incoming', `.partial-${process.pid}`)), []);
  await new Promise((res) => setTimeout(res, 200));
  assert.deepEqual(rec.closed, ['released 4/0']);
});

test('SCP: wrong called AE title and calling AE titles not on the list are rejected at association', async (t) => {
  const dir = tempDir(t);
  const { r, rec } = await withReceiver(t, { incomingDir: join(dir, 'incoming'), allowedCallingAes: ['SENDER'] });
  await assert.rejects(echo(parseDestination(`NODE@127.0.0.1:${r.port}`, { callingAeTitle: 'INTRUDER', timeoutMs: 5000 })), /refused the association \(permanent rejection: calling AE title not recognized\)/);
  await assert.rejects(echo(parseDestination(`OTHER@127.0.0.1:${r.port}`, { callingAeTitle: 'SENDER', timeoutMs: 5000 })), /called AE title not recognized/);
  await echo(parseDestination(`NODE@127.0.0.1:${r.port}`, { callingAeTitle: 'SENDER', timeoutMs: 5000 }));
  assert.deepEqual(rec.rejected, ['calling AE title INTRUDER is not on the allowed list', 'called AE title OTHER is not NODE']);
});

test('SCP over DICOM TLS: echoscu with TLS is answered, a plain connection is not', async (t) => {
  const missing = TOOLS.filter((p) => !existsSync(p));
  if (missing.length) return t.skip(`needs ${missing.join(', ')} (Debian: dcmtk openssl)`);
  const dir = tempDir(t);
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const gen = spawnSync('/usr/bin/openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=node'], { encoding: 'utf8' });
  assert.equal(gen.status, 0, gen.stderr);
  const { r } = await withReceiver(t, { incomingDir: join(dir, 'incoming'), tls: { key: readFileSync(key), cert: readFileSync(cert) } });
  const run = (args: string[]): Promise<number | null> =>
    new Promise((resolve) => {
      // Asynchronously: the SCP lives in this process.
      const c = spawn('/usr/bin/echoscu', [...args, '-to', '5', '-ta', '5', '-td', '5', '-aet', 'SENDER', '-aec', 'NODE', '127.0.0.1', String(r.port)], { stdio: 'ignore' });
      c.on('exit', (code) => resolve(code));
    });
  assert.equal(await run(['--anonymous-tls', '+cf', cert]), 0, 'echoscu over TLS, verifying our certificate');
  assert.notEqual(await run([]), 0, 'a plain TCP association to the TLS port fails');
});
