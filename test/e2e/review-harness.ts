/**
 * The review e2e tests' common setup: a phantom archive with a template set
 * (test/integration/jobs/archive.ts), the engine service and bridge over it with no models (so runs
 * use the weight-free atlas backend), and a Chromium page on the bridge. Everything is torn down,
 * and the environment restored, when the test ends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import { startBridge } from '../../electron/bridge/server.js';
import { createEngineService } from '../../electron/engine/service.js';
import { ENGINE_ARCHIVE, ENGINE_CONTOURS } from '../../electron/engine/service-ports.js';
import { makeBatchArchive } from '../integration/jobs/archive.js';
import { buildRenderer, CHROMIUM, CHROMIUM_ARGS } from './harness.js';

export interface ReviewHarness {
  dir: string;
  archive: Awaited<ReturnType<typeof makeBatchArchive>>;
  service: ReturnType<typeof createEngineService>;
  page: Page;
  /** Uncaught errors of the page, for a final "no errors" assertion. */
  pageErrors: string[];
}

export async function openReviewHarness(t: TestContext, prefix: string, count: number): Promise<ReviewHarness> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const env = { models: process.env.DELINEATE_MODELS, home: process.env.DELINEATE_HOME };
  process.env.DELINEATE_MODELS = join(dir, 'no-models'); // no weights: the atlas backend
  process.env.DELINEATE_HOME = join(dir, 'home');
  const staticDir = buildRenderer();
  const archive = await makeBatchArchive(dir, { count });
  const service = createEngineService({ dbPath: archive.dbFile, archive: ENGINE_ARCHIVE, contours: ENGINE_CONTOURS });
  const bridge = await startBridge({ service, staticDir });
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 900 } });
  t.after(async () => {
    await context.close();
    await bridge.close();
    service.close();
    for (const [k, v] of [['DELINEATE_MODELS', env.models], ['DELINEATE_HOME', env.home]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(dir, { recursive: true, force: true });
    rmSync(staticDir, { recursive: true, force: true });
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(bridge.url);
  return { dir, archive, service, page, pageErrors };
}
