/**
 * Shared pieces of the DICOM node acceptance test and benchmark: child processes (Orthanc, storescp,
 * `delineate listen`) started and stopped by pid, bounded waits, the archive with the template sets
 * (4D-Lung copy with new UIDs + its RTSTRUCT's vertebra; OpenKBP pt_4 + its label map; the phantom
 * set of the batch tests), and an OpenKBP patient converted to DICOM with plastimatch.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers/data.js';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { importPaths } from '../../../electron/engine/dicom/import.js';
import { deriveTemplatesFromRtstruct } from '../../../electron/engine/rtstruct/derive.js';
import { deriveFromLabelFile } from '../../../electron/engine/service-derive.js';
import { getSeries } from '../../../electron/engine/store/archive.js';
import { makeBatchArchive } from '../jobs/archive.js';

export const CLI = join(REPO_ROOT, 'bin/delineate.js');

export async function waitFor<T>(what: string, ms: number, probe: () => T | undefined | Promise<T | undefined>, everyMs = 200): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function waitForPort(port: number, ms = 20_000): Promise<true> {
  return waitFor(`port ${port}`, ms, () => new Promise<true | undefined>((r) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), r(true)));
    s.once('error', () => r(undefined));
  }), 100);
}

export async function stop(c: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const done = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill(signal);
  await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
  if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

export function startOrthanc(dir: string, opts: { dicomPort: number; httpPort: number; modalities?: Record<string, [string, string, number]> }): ChildProcess {
  const config = join(dir, 'orthanc.json');
  writeFileSync(
    config,
    JSON.stringify({
      Name: 'tps',
      StorageDirectory: join(dir, 'orthanc-storage'),
      IndexDirectory: join(dir, 'orthanc-index'),
      DicomAet: 'ORTHANC',
      DicomPort: opts.dicomPort,
      HttpPort: opts.httpPort,
      RemoteAccessAllowed: false,
      AuthenticationEnabled: false,
      DicomCheckCalledAet: true,
      DicomModalities: opts.modalities ?? {},
      Plugins: [],
    }),
  );
  return spawn('/usr/sbin/Orthanc', [config], { stdio: 'ignore' });
}

/** `delineate listen` as a child process; its stderr lines are collected. */
export function startListen(args: string[]): { child: ChildProcess; lines: string[]; listening: Promise<void> } {
  const child = spawn(process.execPath, [CLI, 'listen', ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_ROOT });
  const lines: string[] = [];
  let buf = '';
  let resolveListening!: () => void;
  const listening = new Promise<void>((r) => (resolveListening = r));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    for (const l of parts) {
      lines.push(l);
      if (/listening as/.test(l)) resolveListening();
    }
  });
  child.stdout!.resume();
  return { child, lines, listening };
}

/** dcmtk's storescu, verbose; `output` is its stdout and stderr (exit status 192 when a store failed). */
export function storescu(callingAe: string, port: number, files: string[], calledAe = 'DELINEATE', verbose = true): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const c = spawn('/usr/bin/storescu', [...(verbose ? ['-v'] : []), '-aet', callingAe, '-aec', calledAe, '127.0.0.1', String(port), ...files], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    c.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
    c.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
    // 'close', not 'exit': only then have stdout and stderr been read to their end (a rejection
    // message printed just before exit was otherwise sometimes missing from `output`).
    c.on('close', (status) => resolve({ status, output }));
  });
}

export function dicomFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.dcm')).sort().map((f) => join(dir, f));
}

export interface NodeArchive {
  dbFile: string;
  /** The OpenKBP patient converted to DICOM (cropped to `slices` slices). */
  openkbpDir: string;
  openkbpPatientId: string;
}

/**
 * The node's database with three template sets: 'Phantom' (the batch tests' phantom), 'lung' (the
 * 4D-Lung CT under new study/series/instance UIDs, same frame of reference, with its RTSTRUCT's
 * Vertebra_c40: the received original is then a different series) and 'hn' (OpenKBP pt_4 with its
 * Mandible), and OpenKBP pt_17 converted to DICOM by plastimatch.
 */
export async function makeNodeArchive(dir: string, data: string, opts: { slices?: [number, number] } = {}): Promise<NodeArchive> {
  const { dbFile } = await makeBatchArchive(join(dir, 'phantom-archive'), { count: 0 });
  const tpl = join(dir, 'lung-template');
  cpSync(join(data, '4dlung/ct'), tpl, { recursive: true });
  for (const f of readdirSync(tpl)) chmodSync(join(tpl, f), 0o644);
  const mod = spawnSync('/usr/bin/dcmodify', ['-q', '-nb', '-gin', '-m', 'SeriesInstanceUID=2.25.1500001', '-m', 'StudyInstanceUID=2.25.1500002', ...dicomFiles(tpl)], { encoding: 'utf8' });
  if (mod.status !== 0) throw new Error(`dcmodify failed: ${mod.stderr}`);
  const kbpNifti = join(dir, 'pt_17_crop.nii.gz');
  const [z0, z1] = opts.slices ?? [40, 103];
  const crop = spawnSync('/usr/bin/plastimatch', ['crop', '--input', join(data, 'openkbp/pt_17_ct.nii.gz'), '--output', kbpNifti, '--voxels', `0 127 0 127 ${z0} ${z1}`], { encoding: 'utf8' });
  if (crop.status !== 0) throw new Error(`plastimatch crop failed: ${crop.stderr}${crop.stdout}`);
  const openkbpDir = join(dir, 'pt17-dicom');
  mkdirSync(openkbpDir);
  const conv = spawnSync('/usr/bin/plastimatch', ['convert', '--input', kbpNifti, '--output-dicom', openkbpDir, '--patient-id', 'KBP17', '--patient-name', 'OpenKBP^17'], { encoding: 'utf8' });
  if (conv.status !== 0) throw new Error(`plastimatch convert failed: ${conv.stderr}${conv.stdout}`);
  const db = openDatabase(dbFile);
  try {
    await importPaths(db, [tpl, join(data, 'openkbp/pt_4_ct.nii.gz')]);
    deriveTemplatesFromRtstruct(db, { set: 'lung', seriesUid: '2.25.1500001', file: join(data, '4dlung/rtstruct/1-1.dcm'), structures: ['Vertebra_c40'] });
    const pt4 = (db.prepare(`SELECT s.series_uid FROM series s JOIN studies st ON st.study_uid = s.study_uid JOIN patients p ON p.id = st.patient_ref WHERE p.patient_id = 'pt_4_ct'`).get() as { series_uid: string } | undefined)?.series_uid;
    if (!pt4) throw new Error('OpenKBP pt_4 did not import');
    await deriveFromLabelFile(db, { set: 'hn', seriesUid: pt4, labelsPath: join(data, 'openkbp/pt_4_oar_labels.nii.gz'), names: { '7': 'Mandible' }, series: getSeries(db, pt4) });
  } finally {
    db.close();
  }
  return { dbFile, openkbpDir, openkbpPatientId: 'KBP17' };
}
