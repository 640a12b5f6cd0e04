/**
 * DICOM network (issue 6): `send` of an exported RTSTRUCT to dcmtk's storescp arrives intact (dcmdump
 * shows the same ROIs) and appears in Orthanc's REST listing; refused associations, nothing listening,
 * a silent peer (timeout) and a C-STORE failure status each give a clear error.
 * Orthanc 1.10 and storescp cannot bind to loopback only, so this file re-runs itself inside a private
 * network namespace (`unshare -n`, then `ip link set lo up`; NOTES.md). It needs root and the tools;
 * otherwise it skips with a message. Every wait is bounded.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { echo, storeFiles } from '../../../electron/engine/dimse/client.js';
import { parseDestination } from '../../../electron/engine/dimse/destination.js';
import { writeRtstruct } from '../../../electron/engine/rtstruct/write.js';
import type { Geometry } from '../../../electron/engine/volume/geometry.js';
import { DelineateError } from '../../../electron/engine/errors.js';
import { REPO_ROOT, tempDir } from '../../helpers/data.js';
import { checkWrittenRtstruct, handSeries } from '../../unit/rtstruct/fixtures.js';

const THIS_FILE = fileURLToPath(import.meta.url);
const IN_NETNS = process.env.DELINEATE_TEST_NETNS === '1';
const TOOLS = ['/usr/bin/unshare', '/usr/sbin/ip', '/usr/bin/storescp', '/usr/bin/dcmdump', '/usr/sbin/Orthanc'];

if (!IN_NETNS) {
  test('DICOM network tests (run inside a private network namespace)', (t) => {
    const missing = TOOLS.filter((p) => !existsSync(p));
    if (process.getuid?.() !== 0) return t.skip('network tests skipped: they need root to create a private network namespace (unshare -n)');
    if (missing.length > 0) return t.skip(`network tests skipped: ${missing.join(', ')} not installed (Debian: util-linux iproute2 dcmtk orthanc)`);
    // A nested `node --test` inherits NODE_TEST_CONTEXT and would report to us in the runner's binary
    // protocol instead of running; drop it so the inner run is an ordinary one.
    const env: NodeJS.ProcessEnv = { ...process.env, DELINEATE_TEST_NETNS: '1' };
    delete env.NODE_TEST_CONTEXT;
    const r = spawnSync(
      '/usr/bin/unshare',
      ['-n', '--', '/bin/sh', '-c', 'ip link set lo up && exec "$0" --import tsx --test --test-reporter=spec "$1"', process.execPath, THIS_FILE],
      { env, encoding: 'utf8', timeout: 180_000, cwd: REPO_ROOT },
    );
    for (const line of `${r.stdout}`.split('\n').filter((l) => /^\s*(✔|✖|ℹ|#)/.test(l))) t.diagnostic(line.trim());
    assert.equal(r.status, 0, `network tests failed inside the namespace:\n${r.stdout}\n${r.stderr}`);
  });
} else {
  const g: Geometry = { dims: [16, 16, 4], spacing: [1, 1, 2.5], origin: [-8, -8, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
  const mask = new Uint8Array(16 * 16 * 4);
  for (let k = 1; k < 3; k++) for (let j = 3; j < 12; j++) for (let i = 4; i < 10; i++) mask[i + 16 * (j + 16 * k)] = 1;
  const mask2 = new Uint8Array(mask.length);
  mask2[5 + 16 * (5 + 16 * 3)] = 1;

  const children: ChildProcess[] = [];
  const stop = async (c: ChildProcess): Promise<void> => {
    if (c.exitCode !== null || c.signalCode !== null) return;
    const done = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };

  async function waitForPort(port: number, ms = 15_000): Promise<void> {
    const until = Date.now() + ms;
    for (;;) {
      const ok = await new Promise<boolean>((r) => {
        const s = connect(port, '127.0.0.1');
        s.once('connect', () => (s.destroy(), r(true)));
        s.once('error', () => r(false));
      });
      if (ok) return;
      if (Date.now() > until) throw new Error(`nothing listening on ${port} after ${ms} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  function runCli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, [join(REPO_ROOT, 'bin/delineate.js'), ...args], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
        resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
      });
    });
  }

  function exportFile(t: TestContext, dir: string): { file: string; sop: string } {
    const file = join(dir, 'rs.dcm');
    const w = writeRtstruct(file, handSeries(g), [
      { name: 'Liver', color: '#a0522d', mask },
      { name: 'Kidney_L', color: '#ff00ff', mask: mask2 },
    ]);
    checkWrittenRtstruct(t, file);
    return { file, sop: w.sopInstanceUid };
  }

  test('send to storescp: C-ECHO, C-STORE, and the received file has the same ROIs', async (t) => {
    const dir = tempDir(t);
    const inbox = join(dir, 'in');
    mkdirSync(inbox);
    const scp = spawn('/usr/bin/storescp', ['-aet', 'STORESCP', '-od', inbox, '11112'], { stdio: 'ignore' });
    children.push(scp);
    t.after(() => stop(scp));
    await waitForPort(11112);
    const { file, sop } = exportFile(t, dir);
    await echo(parseDestination('STORESCP@127.0.0.1:11112', { timeoutMs: 5000 }));
    // Through the CLI, as a planner would.
    const cli = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/delineate.js'), 'send', file, '--to', 'STORESCP@127.0.0.1:11112', '--calling', 'PLANNER', '--timeout', '5', '--db', join(dir, 'db.sqlite'), '--json'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(cli.status, 0, cli.stderr);
    assert.deepEqual(JSON.parse(cli.stdout), { sent: [{ file, status: 'success' }] });
    const received = readdirSync(inbox);
    assert.equal(received.length, 1);
    const dump = spawnSync('/usr/bin/dcmdump', [join(inbox, received[0]!)], { encoding: 'utf8' }).stdout;
    assert.match(dump, new RegExp(`\\(0008,0018\\) UI \\[${sop.replace(/\./g, '\\.')}\\]`));
    const names = [...dump.matchAll(/\(3006,0026\) LO \[([^\]]*)\]/g)].map((m) => m[1]);
    assert.deepEqual(names, ['Liver', 'Kidney_L']);
    const counts = [...dump.matchAll(/\(3006,0046\) IS \[(\d+)\]/g)].length;
    assert.equal(counts, 3, 'two Liver contours and one Kidney_L contour');
  });

  test('send to Orthanc: the RTSTRUCT appears in its REST listing', async (t) => {
    const dir = tempDir(t);
    const config = join(dir, 'orthanc.json');
    writeFileSync(
      config,
      JSON.stringify({
        Name: 'test',
        StorageDirectory: join(dir, 'storage'),
        IndexDirectory: join(dir, 'index'),
        DicomAet: 'ORTHANC',
        DicomPort: 4242,
        HttpPort: 8042,
        RemoteAccessAllowed: false,
        AuthenticationEnabled: false,
        DicomCheckCalledAet: true,
        Plugins: [],
      }),
    );
    const orthanc = spawn('/usr/sbin/Orthanc', [config], { stdio: 'ignore' });
    children.push(orthanc);
    t.after(() => stop(orthanc));
    await waitForPort(4242);
    await waitForPort(8042);
    const { file, sop } = exportFile(t, dir);
    const out = await storeFiles(parseDestination('ORTHANC@127.0.0.1:4242', { timeoutMs: 5000 }), [file]);
    assert.deepEqual(out.map((o) => o.status), ['success']);
    const ids = (await (await fetch('http://127.0.0.1:8042/instances')).json()) as string[];
    assert.equal(ids.length, 1);
    const tags = (await (await fetch(`http://127.0.0.1:8042/instances/${ids[0]}/simplified-tags`)).json()) as Record<string, unknown>;
    assert.equal(tags.SOPInstanceUID, sop);
    assert.equal(tags.Modality, 'RTSTRUCT');
    // Orthanc checks the called AE title: a wrong one is a refused association, reported as such.
    await assert.rejects(
      storeFiles(parseDestination('NOTORTHANC@127.0.0.1:4242', { timeoutMs: 5000 }), [file]),
      (e: unknown) => e instanceof DelineateError && e.code === 'network' && /refused the association.*called AE title not recognized/.test(e.message),
    );
  });

  test('clear errors: refused association, nothing listening, silent peer, rejected object', async (t) => {
    const dir = tempDir(t);
    const { file } = exportFile(t, dir);
    const refusing = spawn('/usr/bin/storescp', ['--refuse', '11113'], { stdio: 'ignore' });
    children.push(refusing);
    t.after(() => stop(refusing));
    await waitForPort(11113);
    await assert.rejects(storeFiles(parseDestination('ANY@127.0.0.1:11113', { timeoutMs: 5000 }), [file]), /refused the association/);
    await assert.rejects(echo(parseDestination('ANY@127.0.0.1:11119', { timeoutMs: 5000 })), /connection refused/);

    // A peer that accepts the TCP connection and never answers.
    const held = new Set<Socket>();
    const silent: Server = createServer((sock) => held.add(sock)).listen(11114);
    t.after(() => {
      for (const sock of held) sock.destroy();
      silent.close();
    });
    const started = Date.now();
    await assert.rejects(echo(parseDestination('ANY@127.0.0.1:11114', { timeoutMs: 1000 })), (e: unknown) => e instanceof DelineateError && e.code === 'network' && /time|no answer/i.test(e.message));
    t.diagnostic(`silent peer reported after ${Date.now() - started} ms`);
    // The CLI exits after a timeout instead of hanging on the half-open connection.
    const timedOut = await runCli(['send', file, '--to', 'ANY@127.0.0.1:11114', '--timeout', '1', '--db', join(dir, 'db.sqlite'), '--json']);
    assert.equal(timedOut.status, 1, timedOut.stderr);
    assert.match(timedOut.stderr, /ANY@127\.0\.0\.1:11114: (timed out|no answer)/);

    // A peer that answers every C-STORE with 0xA700 (out of resources).
    const dimse = createRequire(import.meta.url)('dcmjs-dimse') as typeof import('dcmjs-dimse');
    const { Scp, Server: DimseServer } = dimse;
    const { CStoreResponse } = dimse.responses;
    const { PresentationContextResult, TransferSyntax } = dimse.constants;
    class RejectingScp extends Scp {
      override associationRequested(association: InstanceType<typeof dimse.association.Association>): void {
        for (const { context } of association.getPresentationContexts()) context.setResult(PresentationContextResult.Accept, TransferSyntax.ImplicitVRLittleEndian);
        this.sendAssociationAccept();
      }
      override cStoreRequest(request: InstanceType<typeof dimse.requests.CStoreRequest>, callback: (r: InstanceType<typeof CStoreResponse>) => void): void {
        const r = CStoreResponse.fromRequest(request);
        r.setStatus(0xa700);
        callback(r);
      }
      override associationReleaseRequested(): void {
        this.sendAssociationReleaseResponse();
      }
    }
    const server = new DimseServer(RejectingScp);
    server.listen(11115);
    t.after(() => server.close());
    await waitForPort(11115);
    // Asynchronously: the rejecting peer lives in this process and must keep answering.
    const cli = await runCli(['send', file, '--to', 'FULL@127.0.0.1:11115', '--timeout', '5', '--db', join(dir, 'db.sqlite'), '--json']);
    assert.equal(cli.status, 1);
    assert.equal(cli.stdout, '');
    assert.match(cli.stderr, /FULL@127\.0\.0\.1:11115 did not store .*rs\.dcm \(status 0xA700/);
  });

  test.after(async () => {
    for (const c of children) await stop(c);
  });
}
