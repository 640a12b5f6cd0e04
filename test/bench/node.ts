/**
 * `npm run bench -- node`: the DICOM node.
 * 1. Receiving: dcmtk's storescu sends the 4D-Lung series (../shared/data/4dlung/ct) to
 *    `delineate listen` and to dcmtk's storescp (-od, writing each file), alternately, REPS times;
 *    instances per second (median) and the ratio. The node fsyncs every file and its folder before
 *    it acknowledges; storescp does not fsync.
 * 2. Latency: one OpenKBP patient (pt_17 converted to DICOM by plastimatch) sent to a node with a
 *    rule (template set from pt_4, atlas backend, Orthanc as the TPS, quiet time 2 s): seconds from
 *    storescu's exit (the last instance acknowledged) to the RTSTRUCT listed by Orthanc, beside the
 *    same work done by hand with the CLI (import, run, export rtstruct, send) on the same series.
 * Servers run in a private network namespace (root); otherwise it says so and stops.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataDir, REPO_ROOT } from '../helpers/data.js';
import { CLI, dicomFiles, makeNodeArchive, startListen, startOrthanc, stop, storescu, waitFor, waitForPort } from '../integration/node/harness.js';

const REPS = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

function cli(args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: REPO_ROOT, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`delineate ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function receiving(dir: string): Promise<void> {
  const files = dicomFiles(join(dataDir(), '4dlung/ct'));
  const inbox = join(dir, 'storescp-in');
  mkdirSync(inbox);
  const scp = spawn('/usr/bin/storescp', ['-aet', 'STORESCP', '-od', inbox, '11300'], { stdio: 'ignore' });
  const node = startListen(['--aet', 'DELINEATE', '--port', '11301', '--quiet', '600', '--db', join(dir, 'recv.sqlite')]);
  try {
    await node.listening;
    await waitForPort(11300);
    const theirs: number[] = [];
    const ours: number[] = [];
    for (let i = 0; i < REPS + 1; i++) {
      const a = await timed(async () => {
        if ((await storescu('BENCH', 11300, files, 'STORESCP', false)).status !== 0) throw new Error('storescu to storescp failed');
      });
      const b = await timed(async () => {
        if ((await storescu('BENCH', 11301, files, 'DELINEATE', false)).status !== 0) throw new Error('storescu to delineate failed');
      });
      if (i > 0) {
        // The first round warms the file cache and both servers.
        theirs.push(a);
        ours.push(b);
      }
    }
    const rate = (ms: number): number => files.length / (ms / 1000);
    const o = rate(median(ours));
    const s = rate(median(theirs));
    process.stdout.write(`receive ${files.length} instances (4D-Lung CT, ${REPS} runs, median):\n`);
    process.stdout.write(`  delineate listen  ${o.toFixed(1)} instances/s (fsync per file)\n`);
    process.stdout.write(`  dcmtk storescp    ${s.toFixed(1)} instances/s (no fsync)\n`);
    process.stdout.write(`  ratio delineate/storescp ${(o / s).toFixed(2)}\n`);
  } finally {
    await stop(node.child);
    await stop(scp);
  }
}

async function latency(dir: string): Promise<void> {
  const archive = await makeNodeArchive(join(dir, 'archive'), dataDir(), { slices: [0, 127] });
  const orthanc = startOrthanc(dir, { dicomPort: 4342, httpPort: 8142 });
  const rules = join(dir, 'rules.json');
  writeFileSync(rules, JSON.stringify({ rules: [{ name: 'hn', match: { modality: 'CT' }, templateSet: 'hn', destination: 'ORTHANC@127.0.0.1:4342' }] }));
  const node = startListen(['--aet', 'DELINEATE', '--port', '11302', '--quiet', '2', '--backend', 'atlas', '--rules', rules, '--db', archive.dbFile]);
  const rtstructs = async (): Promise<number> => {
    const r = (await (await fetch('http://127.0.0.1:8142/tools/find', { method: 'POST', body: JSON.stringify({ Level: 'Instance', Query: { Modality: 'RTSTRUCT' } }) })).json()) as string[];
    return r.length;
  };
  try {
    await node.listening;
    await waitForPort(4342);
    const files = dicomFiles(archive.openkbpDir);
    if ((await storescu('CT_SIM', 11302, files, 'DELINEATE', false)).status !== 0) throw new Error('storescu to delineate failed');
    const t0 = performance.now();
    await waitFor('the RTSTRUCT in Orthanc', 1_800_000, async () => ((await rtstructs()) >= 1 ? true : undefined), 200);
    const nodeMs = performance.now() - t0;

    // The same work by hand on a copy of the archive without the node: import, run, export, send.
    const manualDb = join(dir, 'manual.sqlite');
    const a2 = await makeNodeArchive(join(dir, 'archive2'), dataDir(), { slices: [0, 127] });
    const t1 = performance.now();
    const imported = JSON.parse(cli(['import', a2.openkbpDir, '--db', a2.dbFile, '--json'])) as { series: Array<{ seriesUid: string }> };
    const uid = imported.series[0]!.seriesUid;
    cli(['run', '--set', 'hn', '--series', uid, '--backend', 'atlas', '--db', a2.dbFile, '--json']);
    const rs = join(dir, 'manual-rs.dcm');
    cli(['export', 'rtstruct', '--series', uid, '--out', rs, '--db', a2.dbFile, '--json']);
    cli(['send', rs, '--to', 'ORTHANC@127.0.0.1:4342', '--db', manualDb, '--json']);
    const manualMs = performance.now() - t1;
    process.stdout.write(`OpenKBP pt_17 (${files.length} slices), atlas backend, template pt_4 Mandible:\n`);
    process.stdout.write(`  node: last instance acknowledged -> RTSTRUCT in Orthanc  ${(nodeMs / 1000).toFixed(1)} s (includes the 2 s quiet time)\n`);
    process.stdout.write(`  by hand: import + run + export rtstruct + send (4 CLI processes)  ${(manualMs / 1000).toFixed(1)} s\n`);
    process.stdout.write(`  ratio node/by-hand ${(nodeMs / manualMs).toFixed(2)}\n`);
  } finally {
    await stop(node.child);
    await stop(orthanc);
  }
}

export async function bench(): Promise<void> {
  if (process.env.DELINEATE_BENCH_NETNS !== '1') {
    if (process.getuid?.() !== 0) {
      process.stdout.write('node benchmark: needs root to run storescp and Orthanc in a private network namespace (unshare -n)\n');
      return;
    }
    const r = spawnSync('/usr/bin/unshare', ['-n', '--', '/bin/sh', '-c', 'ip link set lo up && exec "$0" --import tsx "$1" node', process.execPath, join(REPO_ROOT, 'test/bench/run.ts')], {
      env: { ...process.env, DELINEATE_BENCH_NETNS: '1' },
      stdio: 'inherit',
      cwd: REPO_ROOT,
    });
    process.exitCode = r.status ?? 1;
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'delineate-bench-node-'));
  try {
    await receiving(dir);
    await latency(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
