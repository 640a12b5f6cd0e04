/**
 * One writer of the concurrency and SIGKILL test (concurrency.test.ts), run as its own process.
 * Prints one line per acknowledged write on stdout, after its transaction committed (stdout to a
 * pipe is synchronous on Linux, so a line printed is a line received even if SIGKILL follows):
 *   service: `S <actor> <n>` an audited decision; `E <file>` an export file plus its audit entry
 *   run:     `R <seriesUid>` a batch item done (results and audit committed by the jobs queue)
 *   node:    `N <seriesUid>` a received series imported
 * Usage: writer.child.ts ROLE DB SECONDS OUTDIR [INPUT_DIRS...]
 */
import { join } from 'node:path';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { recordAudit, auditExport } from '../../../electron/engine/audit/audit.js';
import { writeFileAtomic } from '../../../electron/engine/fs/atomic.js';
import { importPaths } from '../../../electron/engine/dicom/import.js';
import { createOrFindRun } from '../../../electron/engine/jobs/runs.js';
import { runBatch } from '../../../electron/engine/jobs/runner.js';
import { InlineExecutor } from '../../../electron/engine/jobs/executor.js';
import { fakeWork, seedArchive } from '../../unit/jobs/helpers.js';
import { writePhantomSeries } from '../../fixtures/phantom/phantom.js';

const [role, dbFile, seconds, outDir, ...inputs] = process.argv.slice(2);
const deadline = Date.now() + Number(seconds) * 1000;
const db = openDatabase(dbFile!);
const ack = (line: string): void => void process.stdout.write(`${line}\n`);

async function service(): Promise<void> {
  const actor = `service-${process.pid}`;
  for (let n = 1; Date.now() < deadline; n++) {
    recordAudit(db, { actor, actorKind: 'user', action: 'approved', seriesUid: 'svc', structure: 'Brainstem', detail: { n } });
    ack(`S ${actor} ${n}`);
    if (n % 5 === 0) {
      const file = join(outDir!, `export-${process.pid}-${n}.json`);
      writeFileAtomic(file, JSON.stringify({ n, pad: 'x'.repeat(20_000) }), { operation: 'export' });
      auditExport(db, { actor, seriesUid: 'svc', structures: ['Brainstem'], target: file });
      ack(`E ${file}`);
    }
    await new Promise((r) => setImmediate(r));
  }
}

async function run(): Promise<void> {
  for (let batch = 0; Date.now() < deadline; batch++) {
    const uids = [0, 1, 2].map((j) => `1.2.${process.pid}.${batch}.${j}`);
    seedArchive(db, uids);
    const { run: r } = createOrFindRun(db, { templateSet: 'HN', series: uids, fresh: true });
    const res = await runBatch({ db, runId: r.id, executor: new InlineExecutor(db, fakeWork({ voxels: 8192 })) });
    for (const item of res.items) if (item.status === 'done') ack(`R ${item.seriesUid}`);
  }
}

async function node(): Promise<void> {
  for (let i = 0; Date.now() < deadline; i++) {
    // A new series received each time (as the DICOM node's incoming/ folder), after the prepared ones.
    const dir = i < inputs.length ? inputs[i]! : join(outDir!, 'incoming', `${process.pid}-${i}`);
    if (i >= inputs.length) writePhantomSeries(dir, { seed: `node-${process.pid}-${i}`, columns: 16, rows: 16, slices: 4 });
    const r = await importPaths(db, [dir]);
    for (const s of r.series) ack(`N ${s.seriesUid}`);
  }
}

try {
  await (role === 'service' ? service() : role === 'run' ? run() : node());
} finally {
  db.close();
}
