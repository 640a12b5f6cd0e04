/**
 * Fixtures for the queue's own tests: an archive of N series with a template set, and a
 * deterministic work function (results depend only on the series UID), so an interrupted and an
 * uninterrupted run can be compared row for row. This tests the queue, not a backend.
 */
import { createHash } from 'node:crypto';
import { openDatabase, type Db } from '../../../electron/engine/store/db.js';
import { CancelledError, InputError } from '../../../electron/engine/errors.js';
import type { Work, WorkOptions } from '../../../electron/engine/jobs/work.js';
import type { ItemOutput, ItemTask } from '../../../electron/engine/jobs/types.js';
import type { Box } from '../../../electron/engine/localize/localizer.js';

export const STRUCTURES = ['Brainstem', 'SpinalCord', 'Parotid_L'];

/** Opens (and migrates) a database. */
export function openJobsDb(file: string): Db {
  return openDatabase(file);
}

export function seedArchive(db: Db, seriesUids: string[], set = 'HN'): void {
  db.transaction(() => {
    db.prepare(`INSERT OR IGNORE INTO patients (id, patient_id) VALUES (1, 'P')`).run();
    db.prepare(`INSERT OR IGNORE INTO studies (study_uid, patient_ref) VALUES ('1.2', 1)`).run();
    const ins = db.prepare(`INSERT OR IGNORE INTO series (series_uid, study_uid, modality) VALUES (?, '1.2', 'CT')`);
    for (const uid of [...seriesUids, '1.2.999']) ins.run(uid);
    db.prepare(`INSERT OR IGNORE INTO template_sets (name) VALUES (?)`).run(set);
    const setId = (db.prepare(`SELECT id FROM template_sets WHERE name = ?`).get(set) as { id: number }).id;
    for (const s of STRUCTURES) {
      db.prepare(`INSERT OR IGNORE INTO structures (name) VALUES (?)`).run(s);
      db.prepare(`INSERT OR IGNORE INTO template_members (set_id, structure, series_uid, points_json) VALUES (?, ?, '1.2.999', '[]')`).run(setId, s);
    }
  })();
}

function rand(seed: string): () => number {
  let h = createHash('sha256').update(seed).digest();
  let i = 0;
  return () => {
    if (i + 4 > h.length) {
      h = createHash('sha256').update(h).digest();
      i = 0;
    }
    const v = h.readUInt32LE(i) / 2 ** 32;
    i += 4;
    return v;
  };
}

/** The output a correct pipeline would produce for this series (a pure function of the UID). */
export function fakeOutput(task: ItemTask, voxels = 4096): ItemOutput {
  const r = rand(task.seriesUid);
  const localized = STRUCTURES.map((name) => {
    const min: Box['min'] = [r() * 100, r() * 100, r() * 100];
    const box: Box = { min, max: [min[0] + 10, min[1] + 10, min[2] + 10] };
    return { name, boxes: [box], extremePoints: [box.min, box.max], confidence: r(), flags: [] };
  });
  const segmented = STRUCTURES.map((name) => {
    const mask = new Uint8Array(voxels);
    for (let k = 0; k < voxels; k++) mask[k] = r() < 0.1 ? 1 : 0;
    const n = mask.reduce((a, b) => a + b, 0);
    return { name, mask, voxels: n, volumeCc: n / 1000, confidence: 0.5, flags: [] };
  });
  return {
    backends: { localizer: 'fake-localizer', segmenter: 'fake-segmenter', models: [{ name: 'fake', sha256: 'ab'.repeat(32) }] },
    mode: task.mode,
    localized,
    segmented,
    templates: Object.fromEntries(STRUCTURES.map((s) => [s, ['1.2.999']])),
  };
}

/**
 * A work function for the queue's tests: waits `delayMs` (honouring the signal), fails on series
 * whose UID contains 'bad' with a reason naming it, and returns fakeOutput.
 */
export function fakeWork(opts: { delayMs?: number; voxels?: number } = {}): Work {
  return {
    backends: { localizer: 'fake-localizer', segmenter: 'fake-segmenter', models: [{ name: 'fake', sha256: 'ab'.repeat(32) }] },
    async process(task, ctx) {
      const steps = 4;
      for (let s = 0; s < steps; s++) {
        if (ctx.signal.aborted) throw new CancelledError({ seriesUid: task.seriesUid });
        await new Promise<void>((resolve, reject) => {
          const onAbort = (): void => {
            clearTimeout(timer);
            reject(new CancelledError({ seriesUid: task.seriesUid }));
          };
          const timer = setTimeout(() => {
            ctx.signal.removeEventListener('abort', onAbort);
            resolve();
          }, (opts.delayMs ?? 0) / steps);
          ctx.signal.addEventListener('abort', onAbort, { once: true });
        });
        ctx.onProgress({ done: s + 1, total: steps, message: 'step' });
      }
      if (task.seriesUid.includes('bad')) throw new InputError(`pixel data of series ${task.seriesUid} is truncated`, { seriesUid: task.seriesUid });
      return fakeOutput(task, opts.voxels);
    },
  };
}

/** Work module entry for worker-thread tests (pool.ts loads it by URL). */
export function createWork(opts: WorkOptions): Promise<Work> {
  const delay = opts.extra?.delayMs;
  const voxels = opts.extra?.voxels;
  if (opts.extra?.failInit) return Promise.reject(new InputError('models folder /nowhere has no manifest.json'));
  if (opts.extra?.crashOn) {
    const crashOn = String(opts.extra.crashOn);
    const base = fakeWork({ delayMs: typeof delay === 'number' ? delay : 0 });
    return Promise.resolve({
      ...base,
      process(task, ctx) {
        if (task.seriesUid === crashOn) process.exit(3);
        return base.process(task, ctx);
      },
    });
  }
  return Promise.resolve(fakeWork({ ...(typeof delay === 'number' ? { delayMs: delay } : {}), ...(typeof voxels === 'number' ? { voxels } : {}) }));
}

/** A canonical dump of what a run stored: results (with mask hashes), items and audit, for equality checks. */
export function dumpResults(db: Db): unknown {
  const results = db
    .prepare(
      `SELECT series_uid, structure, localizer, segmenter, mode, boxes_json, extreme_points_json, confidence, flags_json,
              hex(mask) AS mask, voxels, volume_cc, models_json, review_state FROM results ORDER BY series_uid, structure`,
    )
    .all() as Record<string, unknown>[];
  return results.map((r) => ({ ...r, mask: createHash('sha256').update(String(r.mask)).digest('hex') }));
}
