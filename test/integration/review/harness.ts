/**
 * The review tests' common setup: a phantom archive with a template set
 * (test/integration/jobs/archive.ts) and the engine service over it with no models, so runs use the
 * weight-free atlas backend. The folder is removed and the environment restored when the test ends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { createEngineService } from '../../../electron/engine/service.js';
import { ENGINE_ARCHIVE, ENGINE_CONTOURS } from '../../../electron/engine/service-ports.js';
import { makeBatchArchive } from '../jobs/archive.js';

export interface ReviewService {
  dir: string;
  archive: Awaited<ReturnType<typeof makeBatchArchive>>;
  service: ReturnType<typeof createEngineService>;
  /** Closes the service, restores the environment, removes the folder (registered with t.after). */
  dispose(): void;
}

/**
 * With `t`, teardown is registered on the test; without it the caller calls dispose() itself, after
 * whatever it stacked on top (a bridge, a browser) has stopped.
 */
export async function openReviewService(t: TestContext | undefined, prefix: string, count: number): Promise<ReviewService> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const env = { models: process.env.DELINEATE_MODELS, home: process.env.DELINEATE_HOME };
  process.env.DELINEATE_MODELS = join(dir, 'no-models'); // no weights: the atlas backend
  process.env.DELINEATE_HOME = join(dir, 'home');
  const archive = await makeBatchArchive(dir, { count });
  const service = createEngineService({ dbPath: archive.dbFile, archive: ENGINE_ARCHIVE, contours: ENGINE_CONTOURS });
  const dispose = (): void => {
    service.close();
    for (const [k, v] of [['DELINEATE_MODELS', env.models], ['DELINEATE_HOME', env.home]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  t?.after(dispose);
  return { dir, archive, service, dispose };
}
