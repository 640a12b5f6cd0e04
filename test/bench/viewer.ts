/**
 * `npm run bench -- viewer`: time from clicking "Open" on the 4D-Lung CT (512x512x99) to the first
 * rendered MPR frame (all three views) in Chromium against the bridge, beside the raw voxel fetch
 * alone (same page, same bridge) as the baseline. Cold = the engine decodes the DICOM series on this
 * open; warm = the engine already holds the volume (a reopen). Without ../shared/data the phantom is used.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataDir } from '../helpers/data.js';
import { writePhantomSeries } from '../fixtures/phantom/phantom.js';
import { buildRenderer, chromiumMissing, openSeries, startApp } from '../e2e/harness.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function bench(args: string[]): Promise<void> {
  const missing = chromiumMissing();
  if (missing) {
    process.stdout.write(`${missing}\n`);
    return;
  }
  const runs = Number(args[0] ?? 5);
  let input = join(dataDir(), '4dlung', 'ct');
  let label = '4D-Lung CT 512x512x99';
  let tmp: string | undefined;
  if (!existsSync(input)) {
    tmp = mkdtempSync(join(tmpdir(), 'delineate-bench-'));
    writePhantomSeries(tmp, { columns: 256, rows: 256, slices: 80 });
    input = tmp;
    label = 'phantom 256x256x80 (../shared/data absent)';
  }
  const app = await startApp({ staticDir: buildRenderer() });
  try {
    const imported = await app.service.importPaths({ paths: [input] });
    const series = imported.series[0]!;
    const { page } = app;
    const phases: { handle: number; voxels: number; render: number }[] = [];
    const openToFrame = async (): Promise<number> => {
      await page.goto(app.bridge.url);
      await page.waitForSelector(`tr[data-series="${series.seriesUid}"]`);
      await openSeries(page, series.seriesUid);
      // No named inner functions here: tsx would wrap them in a helper the page does not have.
      const [o, h, v, f] = await page.evaluate(() =>
        ['delineate:open', 'delineate:handle', 'delineate:voxels', 'delineate:first-frame'].map((n) => performance.getEntriesByName(n, 'mark')[0]!.startTime),
      );
      const m = { total: f! - o!, handle: h! - o!, voxels: v! - h!, render: f! - v! };
      phases.push(m);
      return m.total;
    };
    const cold = await openToFrame();
    const warm: number[] = [];
    for (let i = 0; i < runs; i++) warm.push(await openToFrame());
    const phase = (k: 'handle' | 'voxels' | 'render'): string => `${phases[0]![k].toFixed(0)} / ${median(phases.slice(1).map((p) => p[k])).toFixed(0)}`;
    const fetches: number[] = [];
    for (let i = 0; i < runs; i++) {
      fetches.push(
        await page.evaluate(async (uid) => {
          const t0 = performance.now();
          const buf = await (await fetch(`/volume/${encodeURIComponent(uid)}`)).arrayBuffer();
          if (buf.byteLength === 0) throw new Error('empty volume');
          return performance.now() - t0;
        }, series.seriesUid),
      );
    }
    const w = median(warm);
    const f = median(fetches);
    const lines = [
      `viewer: ${label}, Chromium (SwiftShader WebGL2), ${runs} warm runs`,
      `  open -> first MPR frame, cold (engine decodes the series): ${cold.toFixed(0)} ms`,
      `  open -> first MPR frame, warm (median):                   ${w.toFixed(0)} ms  (target < 1500 ms)`,
      `  baseline: raw voxel fetch alone (median):                 ${f.toFixed(0)} ms`,
      `  phases, cold / warm median (ms): openVolume ${phase('handle')}, voxel fetch ${phase('voxels')}, Cornerstone volume + first render ${phase('render')}`,
      `  ratio warm open / raw fetch: ${(w / f).toFixed(2)}x; cold open / raw fetch: ${(cold / f).toFixed(2)}x`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await app.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}
