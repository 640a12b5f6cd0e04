/**
 * The fuzz worker thread: writes each case's files into its own folder, reads them with the
 * target's engine call, and classifies the outcome (accepted; refused by an engine error that names
 * the file, or the method for bridge requests; refused without naming it; crash). Hangs and memory
 * blow-ups are judged from outside (harness.ts).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { DelineateError } from '../../electron/engine/errors.js';
import { bridgeTarget } from './bridge-target.js';
import { pduTarget } from './pdu-target.js';
import { FILE_TARGETS, RefusedError, type FuzzCase } from './targets.js';

export type Outcome = 'accepted' | 'refused' | 'unnamed' | 'crash' | 'hang' | 'blow-up';
export interface CaseResult {
  id: number;
  outcome: Outcome;
  detail: string;
}

const { dir, target } = workerData as { dir: string; target: string };
process.env.DELINEATE_FUZZ_TMP = dir;
const targets = new Map([...FILE_TARGETS, bridgeTarget, pduTarget].map((t) => [t.name, t]));

parentPort!.on('message', (m: { id: number; target: string; c: FuzzCase }) => {
  void (async (): Promise<CaseResult> => {
    const caseDir = join(dir, 'case');
    rmSync(caseDir, { recursive: true, force: true });
    mkdirSync(caseDir, { recursive: true });
    const paths = m.c.files.map(([name, bytes]) => {
      const p = join(caseDir, name);
      writeFileSync(p, bytes);
      return p;
    });
    try {
      await targets.get(m.target)!.run(paths, m.c);
      return { id: m.id, outcome: 'accepted', detail: '' };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (e instanceof DelineateError || e instanceof RefusedError) {
        // A manifest error may name the models folder or the model file it points at, not manifest.json.
        const named = m.target === 'manifest' ? [caseDir] : paths;
        const names = m.c.http ? msg.includes(m.c.http.method) || m.c.http.method === '' : named.some((p) => msg.includes(p));
        return { id: m.id, outcome: names ? 'refused' : 'unnamed', detail: msg.slice(0, 300) };
      }
      const where = e instanceof Error ? (e.stack ?? '').split('\n').slice(0, 4).join(' | ') : '';
      return { id: m.id, outcome: 'crash', detail: `${e instanceof Error ? e.name : typeof e}: ${msg.slice(0, 300)} ${where}` };
    }
  })().then((r) => parentPort!.postMessage(r));
});

// Ready once the target is warm (the bridge's service and archive, the node's SCP): the harness
// starts each case's 10 s limit only then.
void (async () => {
  await targets.get(target)?.warm?.();
  parentPort!.postMessage({ ready: true });
})();
