/**
 * What the browser tests and the viewer benchmark share: build the renderer (vite), start the bridge
 * over a fresh database, and drive Debian's Chromium with playwright-core (flags from NOTES.md:
 * WebGL2 runs on SwiftShader; the sandbox is off because the tests may run as root).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startBridge, type Bridge } from '../../electron/bridge/server.js';
import { createEngineService, type EngineService } from '../../electron/engine/service.js';
import { ENGINE_ARCHIVE, ENGINE_CONTOURS } from '../../electron/engine/service-ports.js';
import { REPO_ROOT } from '../helpers/data.js';

export const CHROMIUM = process.env.DELINEATE_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--enable-unsafe-swiftshader',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Builds the renderer with Vite (about 15 s) into a fresh folder of its own, so test files running in
 * parallel never build over each other; returns that folder. Throws with Vite's output on failure.
 */
export function buildRenderer(): string {
  const out = mkdtempSync(join(tmpdir(), 'delineate-renderer-'));
  const vite = join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', '--config', join(REPO_ROOT, 'renderer', 'vite.config.ts'), '--outDir', out, '--logLevel', 'error'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`vite build failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return out;
}

export interface App {
  bridge: Bridge;
  service: EngineService;
  context: BrowserContext;
  page: Page;
  pageErrors: string[];
  close(): Promise<void>;
}

/** Marks the app's first-run Models screen as seen, so a test starts on the Studies screen. */
export const SKIP_FIRST_RUN = (): void => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('delineate:models-screen-seen', '1');

/** `firstRun`: keep the first-run behaviour (the Models screen opens by itself when no models are configured). */
export async function startApp(opts: { staticDir: string; viewport?: { width: number; height: number }; firstRun?: boolean }): Promise<App> {
  const work = mkdtempSync(join(tmpdir(), 'delineate-e2e-'));
  const service = createEngineService({ dbPath: join(work, 'db.sqlite'), archive: ENGINE_ARCHIVE, contours: ENGINE_CONTOURS });
  const bridge = await startBridge({ service, staticDir: opts.staticDir });
  const context = await chromium.launchPersistentContext(join(work, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: opts.viewport ?? { width: 1400, height: 900 },
  });
  if (!opts.firstRun) await context.addInitScript(SKIP_FIRST_RUN);
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(bridge.url);
  return {
    bridge,
    service,
    context,
    page,
    pageErrors,
    async close() {
      await context.close();
      await bridge.close();
      service.close();
      rmSync(work, { recursive: true, force: true });
      rmSync(opts.staticDir, { recursive: true, force: true });
    },
  };
}

export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `browser test skipped: ${CHROMIUM} is absent (apt-get install chromium, or set DELINEATE_CHROMIUM)`;
}

/** Imports `path` through the study browser and waits for the series table. */
export async function importThroughUi(page: Page, path: string): Promise<void> {
  await page.fill('input[name="import-path"]', path);
  await page.click('[data-action="import"]');
  await page.waitForSelector('[data-role="import-summary"]', { timeout: 60_000 });
}

/** Clicks Open on the series and waits until the three views have rendered. */
export async function openSeries(page: Page, seriesUid: string): Promise<void> {
  await page.click(`tr[data-series="${seriesUid}"] [data-action="open"]`);
  await page.waitForSelector(`body[data-mpr-ready="${seriesUid}"]`, { state: 'attached', timeout: 60_000 });
}

export interface ImageStats {
  mean: number;
  std: number;
  /** Fraction of pixels brighter than 10/255. */
  lit: number;
  /** 48x48 grey thumbnail (0..255), row-major. */
  thumb: number[];
}

/** Decodes a PNG in the page (Chromium's decoder) and returns grey statistics and a thumbnail. */
export async function pngStats(page: Page, png: Buffer): Promise<ImageStats> {
  return page.evaluate(async (b64) => {
    // Browser globals, typed locally: the test project compiles without the DOM library.
    interface Ctx2d {
      drawImage(img: unknown, x: number, y: number, w?: number, h?: number): void;
      getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
    }
    const w = globalThis as unknown as {
      createImageBitmap(b: Blob): Promise<{ width: number; height: number }>;
      OffscreenCanvas: new (width: number, height: number) => { getContext(kind: '2d'): Ctx2d | null };
    };
    const { createImageBitmap, OffscreenCanvas } = w;
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const bmp = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
    const c = new OffscreenCanvas(bmp.width, bmp.height);
    const ctx = c.getContext('2d')!;
    ctx.drawImage(bmp, 0, 0);
    const px = ctx.getImageData(0, 0, bmp.width, bmp.height).data;
    let sum = 0;
    let sq = 0;
    let lit = 0;
    const n = bmp.width * bmp.height;
    for (let i = 0; i < n; i++) {
      const g = (px[i * 4]! + px[i * 4 + 1]! + px[i * 4 + 2]!) / 3;
      sum += g;
      sq += g * g;
      if (g > 10) lit++;
    }
    const t = new OffscreenCanvas(48, 48);
    const tctx = t.getContext('2d')!;
    tctx.drawImage(bmp, 0, 0, 48, 48);
    const tp = tctx.getImageData(0, 0, 48, 48).data;
    const thumb: number[] = [];
    for (let i = 0; i < 48 * 48; i++) thumb.push(Math.round((tp[i * 4]! + tp[i * 4 + 1]! + tp[i * 4 + 2]!) / 3));
    const mean = sum / n;
    return { mean, std: Math.sqrt(Math.max(0, sq / n - mean * mean)), lit: lit / n, thumb };
  }, png.toString('base64'));
}

/** Grey values (0..255) of a PNG at CSS-pixel positions, decoded in the page. */
export async function pngGrey(page: Page, png: Buffer, pts: [number, number][]): Promise<number[]> {
  return page.evaluate(
    async ([b64, points]) => {
      interface Ctx2d {
        drawImage(img: unknown, x: number, y: number): void;
        getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
      }
      const w = globalThis as unknown as {
        createImageBitmap(b: Blob): Promise<{ width: number; height: number }>;
        OffscreenCanvas: new (width: number, height: number) => { getContext(kind: '2d'): Ctx2d | null };
      };
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const bmp = await w.createImageBitmap(new Blob([bytes], { type: 'image/png' }));
      const ctx = new w.OffscreenCanvas(bmp.width, bmp.height).getContext('2d')!;
      ctx.drawImage(bmp, 0, 0);
      return points.map(([x, y]) => {
        const d = ctx.getImageData(Math.round(x), Math.round(y), 1, 1).data;
        return (d[0]! + d[1]! + d[2]!) / 3;
      });
    },
    [png.toString('base64'), pts] as const,
  );
}
