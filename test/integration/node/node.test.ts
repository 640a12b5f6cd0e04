/**
 * The DICOM node end to end (issue "DICOM node"), with dcmtk and Orthanc as the peers: storescu sends
 * the 4D-Lung series and an OpenKBP patient converted to DICOM to `delineate listen`; with a rule for
 * each, RTSTRUCTs arrive in Orthanc with no person involved, dciodvfy-clean, referencing the received
 * CT. Along the way: several senders at once, a malformed instance (refused, the rest imported), a
 * calling AE not allowed (rejected), senders that abort mid-series (not run on the quiet time; one
 * completed later, one imported after the incomplete timeout), the node SIGKILLed while contouring
 * and restarted (the run resumes, nothing sent twice), a send to a peer that is down (visible in
 * `node status`, retried with backoff until it is up), a hold-until-approved rule, and `pull` of a
 * patient from Orthanc. Runs itself inside a private network namespace (as test/integration/dimse);
 * needs root, the Debian tools and ../shared/data, else skips with a message.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as DimseTypes from 'dcmjs-dimse';
import Database from 'better-sqlite3';
import { dataDir, REPO_ROOT, tempDir } from '../../helpers/data.js';
import { writePhantomSeries } from '../../fixtures/phantom/phantom.js';
import { reviewStructures } from '../../../electron/engine/audit/audit.js';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { CLI, dicomFiles, makeNodeArchive, startListen, startOrthanc, stop, storescu, waitFor, waitForPort } from './harness.js';

const THIS_FILE = fileURLToPath(import.meta.url);
const IN_NETNS = process.env.DELINEATE_TEST_NETNS === '1';
const TOOLS = ['/usr/bin/unshare', '/usr/sbin/ip', '/usr/bin/storescu', '/usr/bin/storescp', '/usr/bin/dcmodify', '/usr/bin/dciodvfy', '/usr/bin/plastimatch', '/usr/sbin/Orthanc'];

if (!IN_NETNS) {
  test('DICOM node acceptance (runs inside a private network namespace)', (t) => {
    const missing = TOOLS.filter((p) => !existsSync(p));
    if (process.getuid?.() !== 0) return t.skip('DICOM node tests skipped: they need root to create a private network namespace (unshare -n)');
    if (missing.length > 0) return t.skip(`DICOM node tests skipped: ${missing.join(', ')} not installed (Debian: util-linux iproute2 dcmtk dicom3tools plastimatch orthanc)`);
    for (const sub of ['4dlung/ct', '4dlung/rtstruct/1-1.dcm', 'openkbp/pt_4_ct.nii.gz', 'openkbp/pt_17_ct.nii.gz']) {
      if (!existsSync(join(dataDir(), sub))) return t.skip(`DICOM node tests skipped: ${join(dataDir(), sub)} is absent (set DELINEATE_TEST_DATA or place ../shared/data beside the repository)`);
    }
    const env: NodeJS.ProcessEnv = { ...process.env, DELINEATE_TEST_NETNS: '1' };
    delete env.NODE_TEST_CONTEXT;
    const r = spawnSync('/usr/bin/unshare', ['-n', '--', '/bin/sh', '-c', 'ip link set lo up && exec "$0" --import tsx --test --test-reporter=spec "$1"', process.execPath, THIS_FILE], {
      env,
      encoding: 'utf8',
      timeout: 600_000,
      cwd: REPO_ROOT,
    });
    for (const line of `${r.stdout}`.split('\n').filter((l) => /^\s*(✔|✖|ℹ|#)/.test(l))) t.diagnostic(line.trim());
    assert.equal(r.status, 0, `DICOM node tests failed inside the namespace:\n${r.stdout}\n${r.stderr}`);
  });
} else {
  const NODE_PORT = 11200;
  const PULL_PORT = 11201;
  const DOWN_PORT = 11202;
  const ORTHANC_DICOM = 4242;
  const ORTHANC_HTTP = 8042;
  const dimse = createRequire(import.meta.url)('dcmjs-dimse') as typeof DimseTypes;
  dimse.log.setLevel('silent');

  const children: ChildProcess[] = [];
  // Orthanc (the TPS and the PACS) lives for both tests, in its own folder removed after it stops.
  const orthancDir = mkdtempSync(join(tmpdir(), 'delineate-node-orthanc-'));
  const orthancProc = startOrthanc(orthancDir, { dicomPort: ORTHANC_DICOM, httpPort: ORTHANC_HTTP, modalities: { DELINEATE: ['DELINEATE', '127.0.0.1', PULL_PORT] } });
  children.push(orthancProc);
  test.after(async () => {
    for (const c of children) await stop(c, 'SIGKILL');
    rmSync(orthancDir, { recursive: true, force: true });
  });

  type Row = Record<string, string | number | null>;
  /** A read-only look at the node's database (the node runs in another process). */
  function query(dbFile: string, sql: string, ...args: Array<string | number>): Row[] {
    const db = new Database(dbFile, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      try {
        return db.prepare(sql).all(...args) as Row[];
      } catch (e) {
        throw new Error(`${(e as Error).message} in ${sql}`);
      }
    } finally {
      db.close();
    }
  }
  const job = (dbFile: string, seriesUid: string): Row | undefined => query(dbFile, `SELECT * FROM node_jobs WHERE series_uid = ?`, seriesUid)[0];
  const nodeSeries = (dbFile: string, seriesUid: string): Row | undefined => query(dbFile, `SELECT * FROM node_series WHERE series_uid = ?`, seriesUid)[0];

  async function orthanc<T>(path: string): Promise<T> {
    return (await (await fetch(`http://127.0.0.1:${ORTHANC_HTTP}${path}`)).json()) as T;
  }

  /** Every RTSTRUCT in Orthanc as {file, referenced series, label}. */
  async function orthancRtstructs(dir: string): Promise<Array<{ file: string; sop: string; refSeries: string; label: string; roiDescriptions: string[] }>> {
    const ids = await orthanc<string[]>('/instances');
    const out = [];
    for (const id of ids) {
      const tags = await orthanc<Record<string, string>>(`/instances/${id}/simplified-tags`);
      if (tags.Modality !== 'RTSTRUCT') continue;
      const file = join(dir, `${id}.dcm`);
      writeFileSync(file, Buffer.from(await (await fetch(`http://127.0.0.1:${ORTHANC_HTTP}/instances/${id}/file`)).arrayBuffer()));
      const dump = spawnSync('/usr/bin/dcmdump', ['+P', '0020,000e', '+P', '3006,0002', '+P', '3006,0028', file], { encoding: 'utf8' }).stdout;
      // The first (0020,000e) is the RTSTRUCT's own series; the referenced CT series follows inside 3006,0014.
      // dcmdump shortens long values with '...' and no closing bracket: descriptions are matched by their start.
      const series = [...dump.matchAll(/\(0020,000e\) UI \[([^\]]*)\]/g)].map((m) => m[1]!);
      const label = /\(3006,0002\) SH \[([^\]]*)\]/.exec(dump)?.[1] ?? '';
      const roiDescriptions = [...dump.matchAll(/\(3006,0028\) ST \[([^\]\n]*)/g)].map((m) => m[1]!);
      out.push({ file, sop: tags.SOPInstanceUID!, refSeries: series.find((s) => s !== tags.SeriesInstanceUID) ?? '', label, roiDescriptions });
    }
    return out;
  }

  function dciodvfyErrors(file: string): string[] {
    const r = spawnSync('/usr/bin/dciodvfy', ['-new', file], { encoding: 'utf8' });
    return `${r.stderr}`.split('\n').filter((l) => l.startsWith('Error - '));
  }

  /** A phantom CT series with its own patient and description (what the rules match on). */
  function phantom(dir: string, name: string, description: string) {
    return writePhantomSeries(join(dir, name), { seed: `node-${name}`, columns: 40, rows: 40, slices: 20, spacing: [5, 5, 6], patientId: `PH_${name.toUpperCase()}`, seriesDescription: description });
  }

  /** A copy of `file` with a new SOP Instance UID and its pixel data cut to half (a well-formed file, a malformed image). */
  function malformedCopy(file: string, out: string): void {
    const py = `import pydicom, sys
ds = pydicom.dcmread(sys.argv[1])
ds.SOPInstanceUID = ds.SOPInstanceUID + '.9'
ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
ds.PixelData = ds.PixelData[: len(ds.PixelData) // 2]
ds.save_as(sys.argv[2])`;
    const r = spawnSync('/usr/bin/python3', ['-c', py, file, out], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`pydicom failed: ${r.stderr}`);
  }

  /** Sends the first `count` files in one association and then aborts it (A-ABORT), as a sender that dies mid-series. */
  async function sendThenAbort(files: string[], count: number, callingAe: string): Promise<void> {
    const client = new dimse.Client();
    let answered = 0;
    // One request more than answered: aborting in the last response's handler happens before the
    // client moves on (to the next request, which is never sent, or to a release, which would be).
    for (const f of files.slice(0, count + 1)) {
      const req = new dimse.requests.CStoreRequest(f);
      req.on('response', () => {
        answered++;
        if (answered !== count) return;
        client.abort();
        // A sender that dies: nothing more from it (dcmjs-dimse would otherwise go on with the next request).
        (client as unknown as { network?: { socket?: { destroy(): void } } }).network?.socket?.destroy();
      });
      client.addRequest(req);
    }
    await new Promise<void>((resolve) => {
      client.on('closed', () => resolve());
      client.on('networkError', () => resolve());
      client.send('127.0.0.1', NODE_PORT, callingAe, 'DELINEATE', { connectTimeout: 10_000, associationTimeout: 10_000, pduTimeout: 10_000 });
    });
  }

  test('the node receives, imports, contours and sends; survives SIGKILL, drops, malformed input and a peer that is down', async (t: TestContext) => {
    // Registered before the temporary folder's removal: the node stops writing there first.
    let node: ReturnType<typeof startListen> | undefined;
    t.after(() => (node ? stop(node.child, 'SIGKILL') : undefined));
    const dir = tempDir(t, 'delineate-node-');
    const data = dataDir();
    const archive = await makeNodeArchive(dir, data);
    const dbFile = archive.dbFile;
    const rules = join(dir, 'rules.json');
    writeFileSync(
      rules,
      JSON.stringify({
        allowedCallingAeTitles: ['CT_SIM', 'TPS', 'SCANNER3', 'DROPPER'],
        rules: [
          { name: 'lung', match: { modality: 'CT', bodyPart: 'LUNG' }, templateSet: 'lung', destination: `ORTHANC@127.0.0.1:${ORTHANC_DICOM}`, send: 'now' },
          { name: 'head-and-neck', match: { callingAe: 'TPS', modality: 'CT' }, templateSet: 'hn', destination: `ORTHANC@127.0.0.1:${ORTHANC_DICOM}`, send: 'now' },
          { name: 'hold', match: { seriesDescription: '^hold' }, templateSet: 'Phantom', destination: `ORTHANC@127.0.0.1:${ORTHANC_DICOM}`, send: 'after-approval' },
          { name: 'retry', match: { seriesDescription: '^retry' }, templateSet: 'Phantom', destination: `STORESCP@127.0.0.1:${DOWN_PORT}`, send: 'now' },
        ],
      }),
    );
    const listenArgs = ['--aet', 'DELINEATE', '--port', String(NODE_PORT), '--rules', rules, '--quiet', '1.5', '--incomplete', '30', '--retry-base', '1', '--backend', 'atlas', '--db', dbFile];
    node = startListen(listenArgs);
    children.push(node.child);
    await node.listening;
    await waitForPort(ORTHANC_DICOM);

    const lungFiles = dicomFiles(join(data, '4dlung/ct'));
    const lungSeries = spawnSync('/usr/bin/dcmdump', ['+P', '0020,000e', lungFiles[0]!], { encoding: 'utf8' }).stdout.match(/\[([^\]]+)\]/)![1]!;
    const kbpFiles = dicomFiles(archive.openkbpDir);
    const kbpSeries = spawnSync('/usr/bin/dcmdump', ['+P', '0020,000e', kbpFiles[0]!], { encoding: 'utf8' }).stdout.match(/\[([^\]]+)\]/)![1]!;
    const plain = phantom(dir, 'plain', 'no rule for this one');
    const bad = join(dir, 'malformed.dcm');
    malformedCopy(plain.files[3]!.path, bad);
    const dropped = phantom(dir, 'dropped', 'comes back later');
    const abandoned = phantom(dir, 'abandoned', 'never comes back');

    // Several senders at once, one of them not allowed, two that abort mid-series.
    const [lungSend, kbpSend, plainSend, evil] = await Promise.all([
      storescu('CT_SIM', NODE_PORT, lungFiles),
      storescu('TPS', NODE_PORT, kbpFiles),
      storescu('SCANNER3', NODE_PORT, [...plain.files.map((f) => f.path), bad]),
      storescu('EVIL', NODE_PORT, [plain.files[0]!.path]),
      sendThenAbort(dropped.files.map((f) => f.path), 8, 'DROPPER'),
      sendThenAbort(abandoned.files.map((f) => f.path), 5, 'DROPPER'),
    ]);
    assert.equal(lungSend.status, 0, lungSend.output);
    assert.equal(kbpSend.status, 0, kbpSend.output);
    assert.notEqual(plainSend.status, 0, 'storescu exits non-zero when a store failed');
    assert.equal([...plainSend.output.matchAll(/Received Store Response \(Success\)/g)].length, 20);
    assert.match(plainSend.output, /Received Store Response \(Error: CannotUnderstand\)/);
    assert.notEqual(evil.status, 0);
    assert.match(evil.output, /Calling AE Title Not Recognized/);

    const assoc = query(dbFile, `SELECT calling_ae, outcome, stored, refused, detail FROM node_associations ORDER BY id`);
    assert.ok(assoc.some((a) => a.calling_ae === 'EVIL' && a.outcome === 'rejected'), 'the disallowed AE is audited as rejected');
    const scanner = assoc.find((a) => a.calling_ae === 'SCANNER3')!;
    assert.equal(scanner.stored, 20);
    assert.equal(scanner.refused, 1);
    assert.match(String(scanner.detail), /pixel data holds/);
    assert.deepEqual(assoc.filter((a) => a.calling_ae === 'DROPPER').map((a) => [a.outcome, a.stored]).sort(), [['aborted', 5], ['aborted', 8]]);

    // No rule: imported and listed, nothing else. The malformed instance is not there, the rest is.
    await waitFor('the plain series', 30_000, () => nodeSeries(dbFile, plain.seriesUid)?.status === 'imported' || undefined);
    // By then the quiet time has passed for the series of the aborted associations too: not run on it.
    for (const uid of [dropped.seriesUid, abandoned.seriesUid]) {
      assert.deepEqual([nodeSeries(dbFile, uid)?.status, nodeSeries(dbFile, uid)?.interrupted], ['receiving', 1]);
    }
    assert.equal(nodeSeries(dbFile, plain.seriesUid)?.rule, '');
    assert.equal(job(dbFile, plain.seriesUid), undefined);
    const listed = spawnSync(process.execPath, [CLI, 'series', 'list', '--db', dbFile, '--json'], { encoding: 'utf8' });
    const plainListed = (JSON.parse(listed.stdout) as { series: Array<{ seriesUid: string; instances: number }> }).series.find((s) => s.seriesUid === plain.seriesUid);
    assert.equal(plainListed?.instances, 20);
    // The dropped sender comes back with the rest of its series; the other never does.
    const rest = await storescu('DROPPER', NODE_PORT, dropped.files.slice(8).map((f) => f.path));
    assert.equal(rest.status, 0, rest.output);

    // SIGKILL while a job is contouring; the restarted node resumes the same run.
    await waitFor('a job contouring', 120_000, () => query(dbFile, `SELECT 1 FROM run_items WHERE status = 'running'`).length > 0 || undefined);
    const runsBefore = query(dbFile, `SELECT id, selection FROM runs`);
    await stop(node.child, 'SIGKILL');
    assert.ok(query(dbFile, `SELECT 1 FROM run_items WHERE status = 'running'`).length > 0, 'the kill left the item claimed');
    node = startListen(listenArgs);
    children.push(node.child);
    await node.listening;
    const hold = phantom(dir, 'hold', 'hold for review');
    const retry = phantom(dir, 'retry', 'retry until the peer is up');
    assert.equal((await storescu('SCANNER3', NODE_PORT, [...hold.files, ...retry.files].map((f) => f.path))).status, 0);

    await waitFor('the dropped series, completed', 60_000, () => nodeSeries(dbFile, dropped.seriesUid)?.status === 'imported' || undefined);
    assert.equal(query(dbFile, `SELECT count(*) AS n FROM instances WHERE series_uid = ?`, dropped.seriesUid)[0]?.n, 20, 'every instance of both associations imported');
    await waitFor('the abandoned series, imported after the incomplete timeout', 60_000, () => nodeSeries(dbFile, abandoned.seriesUid)?.status === 'imported' || undefined);
    assert.match(String(nodeSeries(dbFile, abandoned.seriesUid)!.detail), /dropped the association/);
    assert.equal(query(dbFile, `SELECT count(*) AS n FROM instances WHERE series_uid = ?`, abandoned.seriesUid)[0]?.n, 5);

    // A send to a peer that is down: visible in `node status`, then retried until it is up.
    await waitFor('a failed send of the retry job', 400_000, () => (Number(job(dbFile, retry.seriesUid)?.attempts ?? 0) >= 1 ? true : undefined), 500);
    const status = spawnSync(process.execPath, [CLI, 'node', 'status', '--db', dbFile, '--json'], { encoding: 'utf8' });
    const failed = (JSON.parse(status.stdout) as { failedSends: Array<{ seriesUid: string; lastError: string }> }).failedSends;
    assert.match(failed.find((f) => f.seriesUid === retry.seriesUid)?.lastError ?? '', /STORESCP@127\.0\.0\.1:11202: connection refused/);
    const inbox = join(dir, 'storescp-in');
    mkdirSync(inbox);
    const scp = spawn('/usr/bin/storescp', ['-aet', 'STORESCP', '-od', inbox, String(DOWN_PORT)], { stdio: 'ignore' });
    children.push(scp);
    await waitFor('the retry job, sent once the peer is up', 60_000, () => job(dbFile, retry.seriesUid)?.status === 'sent' || undefined);

    // Hold-until-approved: nothing leaves until a reviewer has decided every structure.
    await waitFor('the hold job awaiting approval', 300_000, () => job(dbFile, hold.seriesUid)?.status === 'awaiting-approval' || undefined, 500);
    const db = openDatabase(dbFile);
    try {
      reviewStructures(db, ['Liver', 'SpinalCanal'].map((structure) => ({ seriesUid: hold.seriesUid, structure, reviewer: 'jdoe', state: 'approved' as const })));
      reviewStructures(db, [{ seriesUid: hold.seriesUid, structure: 'Lung_L', reviewer: 'jdoe', state: 'rejected' as const }]);
    } finally {
      db.close();
    }
    for (const uid of [lungSeries, kbpSeries, hold.seriesUid]) {
      await waitFor(`the job of series ${uid} sent`, 400_000, () => {
        const j = job(dbFile, uid);
        if (j?.status === 'failed') throw new Error(`job of ${uid} failed: ${j.last_error}`);
        return j?.status === 'sent' || undefined;
      }, 500);
    }
    // The killed run was resumed, not started again.
    const runsAfter = query(dbFile, `SELECT id, selection FROM runs`);
    for (const r of runsBefore) assert.ok(runsAfter.some((a) => a.id === r.id && a.selection === r.selection));
    assert.equal(query(dbFile, `SELECT count(*) AS n FROM runs WHERE selection = ?`, lungSeries)[0]!.n, 1);

    // In Orthanc: one RTSTRUCT per contoured series, dciodvfy-clean, referencing the received CT.
    const rts = await orthancRtstructs(dir);
    assert.deepEqual(rts.map((r) => r.refSeries).sort(), [lungSeries, kbpSeries, hold.seriesUid].sort(), 'nothing sent twice, nothing missing');
    for (const r of rts) assert.deepEqual(dciodvfyErrors(r.file), [], `dciodvfy on the RTSTRUCT of ${r.refSeries}`);
    for (const r of rts.filter((x) => x.refSeries !== hold.seriesUid)) {
      assert.match(r.label, /^UNREVIEWED/);
      assert.ok(r.roiDescriptions.length > 0 && r.roiDescriptions.every((d) => d.startsWith('UNREVIEWED PROPOSAL')));
    }
    const held = rts.find((r) => r.refSeries === hold.seriesUid)!;
    assert.doesNotMatch(held.label, /UNREVIEWED/);
    assert.equal(held.roiDescriptions.length, 2, 'only the approved structures');
    const received = readdirSync(inbox);
    assert.equal(received.length, 1, 'storescp received the retried RTSTRUCT once');
    assert.match(spawnSync('/usr/bin/dcmdump', [join(inbox, received[0]!)], { encoding: 'utf8' }).stdout, /\(0008,0060\) CS \[RTSTRUCT\]/);
    // Exports log and audit: what was sent where, by which rule.
    const sends = query(dbFile, `SELECT series_uid, status, destination, detail FROM exports WHERE kind = 'send' ORDER BY id`);
    assert.equal(sends.filter((s) => s.status === 'ok').length, 4);
    assert.ok(sends.some((s) => s.series_uid === retry.seriesUid && s.status === 'failed'));
    assert.ok(sends.every((s) => /rule (lung|head-and-neck|hold|retry), node job/.test(String(s.detail))));
    const audited = query(dbFile, `SELECT series_uid, detail_json FROM audit WHERE action = 'exported'`);
    assert.ok(audited.some((a) => a.series_uid === lungSeries && /"rule":"lung"/.test(String(a.detail_json)) && /C-STORE to ORTHANC@127\.0\.0\.1:4242/.test(String(a.detail_json))));

    await stop(node.child, 'SIGTERM');
    assert.equal(node.child.exitCode, 0, node.lines.join('\n'));
  });

  test('pull: C-FIND by patient ID on Orthanc, C-MOVE to our SCP, imported', async (t: TestContext) => {
    const dir = tempDir(t, 'delineate-pull-');
    await waitForPort(ORTHANC_DICOM);
    const ph = phantom(dir, 'pull', 'in the PACS');
    assert.equal((await storescu('MODALITY', ORTHANC_DICOM, ph.files.map((f) => f.path), 'ORTHANC')).status, 0);
    const dbFile = join(dir, 'pulled.sqlite');
    const r = spawnSync(
      process.execPath,
      [CLI, 'pull', '--from', `ORTHANC@127.0.0.1:${ORTHANC_DICOM}`, '--patient', 'PH_PULL', '--modality', 'CT', '--aet', 'DELINEATE', '--port', String(PULL_PORT), '--timeout', '20', '--db', dbFile, '--json'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { series: Array<{ seriesUid: string; completed: number }>; imported: { series: Array<{ seriesUid: string; instances: number }> } };
    assert.deepEqual(out.series.map((s) => [s.seriesUid, s.completed]), [[ph.seriesUid, 20]]);
    assert.deepEqual(out.imported.series.map((s) => [s.seriesUid, s.instances]), [[ph.seriesUid, 20]]);
    assert.equal(readFileSync(join(dir, 'incoming', ph.studyUid, ph.seriesUid, `${ph.files[0]!.sopInstanceUid}.dcm`)).subarray(128, 132).toString(), 'DICM');
    const bad = spawnSync(process.execPath, [CLI, 'pull', '--from', `ORTHANC@127.0.0.1:${ORTHANC_DICOM}`, '--patient', 'NOBODY', '--port', String(PULL_PORT), '--db', dbFile], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /has no study for patient ID NOBODY/);
  });
}
