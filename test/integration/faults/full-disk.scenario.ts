/**
 * Runs INSIDE a private mount namespace with small tmpfs mounts under DELINEATE_FAULT_MOUNT (started
 * by full-disk.test.ts; a plain script, not collected by the test runner: the steps call the CLI in
 * process and capture stdout, which a test reporter in the same process would write into). The archive and the export
 * folder live on the tmpfs; the inputs (phantom CT, label map) outside it. Each operation is run
 * with the disk full, must fail with an error naming the operation and the path, leave no
 * half-written file and a consistent database, and complete once the space is freed.
 */
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { StoreReceiver, type ReceiverHooks } from '../../../electron/engine/node/scp.js';
import { storeFiles } from '../../../electron/engine/dimse/client.js';
import { parseDestination } from '../../../electron/engine/dimse/destination.js';
import { cliInProcess, type CliRun } from '../../helpers/cli.js';

const MOUNT = process.env.DELINEATE_FAULT_MOUNT ?? '';
const INPUT = process.env.DELINEATE_FAULT_INPUT ?? '';
const [SERIES_A, SERIES_B] = (process.env.DELINEATE_FAULT_SERIES ?? '').split(',');
const db = join(MOUNT, 'archive', 'delineate.sqlite');
const outDir = join(MOUNT, 'exports', 'out');
const ARCHIVE = join(MOUNT, 'archive');
const EXPORTS = join(MOUNT, 'exports');

/** The CLI in this process on the tmpfs archive, with --json. */
const cli = (...argv: string[]): Promise<CliRun> => cliInProcess([...argv, '--db', db, '--json']);

/** Fills one tmpfs to the last byte. */
function fillDisk(disk: string): void {
  const fd = openSync(join(disk, 'filler'), 'a');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (let size = chunk.length; size >= 1; size = Math.floor(size / 2)) {
      for (;;) {
        try {
          writeSync(fd, chunk, 0, size);
        } catch (e) {
          if ((e as { code?: string }).code === 'ENOSPC') break;
          throw e;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

const freeDisk = (disk: string): void => rmSync(join(disk, 'filler'), { force: true });

/** Every file on the tmpfs, to prove no temporary or half-written file stays visible. */
function files(dir = MOUNT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

async function assertConsistent(): Promise<void> {
  assert.deepEqual(files().filter((f) => /\.partial$/.test(f)), []);
  const check = await cli('db', 'check');
  assert.equal(check.code, 0, check.err);
  assert.equal((JSON.parse(check.out) as { ok: boolean }).ok, true);
}

async function fullThenFreed(disk: string, name: string, argv: string[], path: RegExp): Promise<{ out: string }> {
  fillDisk(disk);
  const failed = await cli(...argv);
  assert.equal(failed.code, 1, `${name} on a full disk: ${failed.err}`);
  assert.match(failed.err, new RegExp(`^delineate ${name}: .*cannot write .*no space left on the disk.*; free some space and run it again`));
  assert.match(failed.err, path);
  assert.equal(failed.out, '');
  freeDisk(disk);
  await assertConsistent();
  const ok = await cli(...argv);
  assert.equal(ok.code, 0, `${name} once space is freed: ${ok.err}`);
  return { out: ok.out };
}

await step('import on a full disk', async () => {
  assert.equal((await cli('series', 'list')).code, 0); // the archive exists before the disk fills
  const r = await fullThenFreed(ARCHIVE, 'import', ['import', join(INPUT, 'ct-a'), join(INPUT, 'ct-b')], /archive\/delineate\.sqlite/);
  assert.equal((JSON.parse(r.out) as { series: unknown[] }).series.length, 2);
});

await step('template derive on a full disk', async () => {
  const r = await fullThenFreed(ARCHIVE, 'template derive', ['template', 'derive', '--set', 'abdomen', '--series', SERIES_A!, '--labels', join(INPUT, 'labels.nii.gz'), '--names', join(INPUT, 'names.json'), '--structures', 'Liver'], /archive\/delineate\.sqlite/);
  assert.equal((JSON.parse(r.out) as { structures: { name: string }[] }).structures[0]!.name, 'Liver');
});

await step('run on a full disk', async () => {
  const r = await fullThenFreed(ARCHIVE, 'run', ['run', '--set', 'abdomen', '--series', SERIES_B!, '--backend', 'atlas', '--workers', '1'], /archive\/delineate\.sqlite|sam-embeddings/);
  const items = (JSON.parse(r.out) as { items: { status: string; error?: string }[] }).items;
  assert.deepEqual(items.map((i) => i.status), ['done'], JSON.stringify(items));
});

await step('export rtstruct and export nifti on a full disk', async () => {
  const rs = join(outDir, 'rs.dcm');
  await fullThenFreed(EXPORTS, `export rtstruct: export rtstruct of series ${SERIES_A!.replace(/\./g, '\\.')}`, ['export', 'rtstruct', '--series', SERIES_A!, '--labels', join(INPUT, 'labels.nii.gz'), '--names', join(INPUT, 'names.json'), '--out', rs], /exports\/out\/rs\.dcm/);
  assert.ok(existsSync(rs));
  await fullThenFreed(EXPORTS, 'export nifti: write NIfTI', ['export', 'nifti', '--series', SERIES_B!, '--out', join(outDir, 'b.nii.gz')], /exports\/out\/b\.nii\.gz/);
  await fullThenFreed(EXPORTS, 'export labels: export labels', ['export', 'labels', '--series', SERIES_B!, '--out', join(outDir, 'b-labels.nii.gz')], /exports\/out\/b-labels\.nii\.gz/);
});

await step('export seg and cluster export --deidentify on a full disk', async () => {
  const seg = join(outDir, 'b-seg.dcm');
  await fullThenFreed(EXPORTS, `export seg: export seg of series ${SERIES_B!.replace(/\./g, '\\.')}`, ['export', 'seg', '--series', SERIES_B!, '--out', seg], /exports\/out\/b-seg\.dcm/);
  assert.ok(existsSync(seg));
  // A failed package export leaves its folder empty, so the same command succeeds afterwards.
  const pkg = join(EXPORTS, 'pkg');
  const r = await fullThenFreed(EXPORTS, 'cluster export: cluster export \\(de-identified\\)', ['cluster', 'export', '--set', 'abdomen', '--series', SERIES_B!, '--to', pkg, '--shards', '1', '--backend', 'atlas', '--deidentify'], /exports\/pkg\//);
  assert.equal((JSON.parse(r.out) as { deidentified: boolean }).deidentified, true);
  assert.ok(existsSync(join(pkg, 'manifest.json')));
});

await step('receive on the DICOM node with a full disk: Out of Resources naming the path, nothing kept; stored once freed', async () => {
  const refused: string[] = [];
  const stored: string[] = [];
  const hooks: ReceiverHooks = { opened: () => 1, rejected: () => undefined, stored: (i) => stored.push(i.path), refused: (_id, _peer, _sop, reason) => refused.push(reason), closed: () => undefined };
  const incoming = join(ARCHIVE, 'incoming');
  const scp = new StoreReceiver({ aeTitle: 'NODE', port: 0, bind: '127.0.0.1', hooks, incomingDir: incoming });
  await scp.listen();
  try {
    const slices = readdirSync(join(INPUT, 'ct-a')).filter((f) => f.endsWith('.dcm')).slice(0, 3).map((f) => join(INPUT, 'ct-a', f));
    const dest = parseDestination(`NODE@127.0.0.1:${scp.port}`, { callingAeTitle: 'SENDER', timeoutMs: 10_000 });
    fillDisk(ARCHIVE);
    const full = await storeFiles(dest, slices);
    assert.deepEqual(full.map((o) => o.statusCode), [0xa700, 0xa700, 0xa700], JSON.stringify(full));
    assert.equal(stored.length, 0);
    assert.equal(refused.length, 3);
    for (const why of refused) assert.match(why, /^receive: cannot write .*archive\/incoming\/.*: no space left on the disk; free some space/);
    const left = files(incoming);
    assert.deepEqual(left, [], `no partial or half-written instance kept: ${left.join(', ')}`);
    freeDisk(ARCHIVE);
    const ok = await storeFiles(dest, slices);
    assert.deepEqual(ok.map((o) => o.status), ['success', 'success', 'success']);
    assert.equal(stored.length, 3);
    assert.ok(stored.every((p) => existsSync(p)));
  } finally {
    freeDisk(ARCHIVE);
    await scp.close();
  }
  await assertConsistent();
});

await step('a read-only export folder and a read-only archive', async () => {
  execFileSync('mount', ['-o', 'remount,ro', EXPORTS]);
  try {
    const ex = await cli('export', 'nifti', '--series', SERIES_A!, '--out', join(outDir, 'ro.nii.gz'));
    assert.equal(ex.code, 1);
    assert.match(ex.err, /^delineate export nifti: write NIfTI: cannot write .*exports\/out\/ro\.nii\.gz: the file system is read-only; choose a writable folder or fix its permissions/);
  } finally {
    execFileSync('mount', ['-o', 'remount,rw', EXPORTS]);
  }
  execFileSync('mount', ['-o', 'remount,ro', ARCHIVE]);
  try {
    const list = await cli('series', 'list');
    assert.equal(list.code, 1);
    assert.match(list.err, /^delineate series list: database: cannot write .*archive\/delineate\.sqlite: the file system is read-only/);
  } finally {
    execFileSync('mount', ['-o', 'remount,rw', ARCHIVE]);
  }
  assert.equal((await cli('series', 'list')).code, 0);
  await assertConsistent();
});

async function step(name: string, fn: () => Promise<void>): Promise<void> {
  const t0 = Date.now();
  try {
    await fn();
    process.stderr.write(`ok - ${name} (${Date.now() - t0} ms)\n`);
  } catch (e) {
    process.stderr.write(`not ok - ${name}\n${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  }
}
