/**
 * The review e2e tests' common setup: the review service of test/integration/review/harness.ts
 * (phantom archive, template set, no models), the bridge over it, and a Chromium page on the bridge. Everything is torn down,
 * and the environment restored, when the test ends.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import { startBridge } from '../../electron/bridge/server.js';
import { openReviewService, type ReviewService } from '../integration/review/harness.js';
import { buildRenderer, CHROMIUM, CHROMIUM_ARGS, SKIP_FIRST_RUN } from './harness.js';

export interface ReviewHarness extends ReviewService {
  page: Page;
  /** Uncaught errors of the page, for a final "no errors" assertion. */
  pageErrors: string[];
}

export async function openReviewHarness(t: TestContext, prefix: string, count: number): Promise<ReviewHarness> {
  const base = await openReviewService(undefined, prefix, count);
  const { dir, service } = base;
  const staticDir = buildRenderer();
  const bridge = await startBridge({ service, staticDir });
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 900 } });
  t.after(async () => {
    await context.close();
    await bridge.close();
    base.dispose();
    rmSync(staticDir, { recursive: true, force: true });
  });
  await context.addInitScript(SKIP_FIRST_RUN);
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(bridge.url);
  return { ...base, page, pageErrors };
}
