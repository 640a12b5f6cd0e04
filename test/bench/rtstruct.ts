/**
 * `npm run bench -- rtstruct`: cost of turning masks into voxel-edge contours and of writing,
 * pre-flighting and reading back an RTSTRUCT, on the 31-label TotalSegmentator map on the
 * example_ct_dicom grid (512x512x20). Baseline in the same run: plain d3-contour marching squares on
 * the same slices (what the voxel-edge outline adds on top of the library).
 */
import { existsSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contours as d3contours } from 'd3-contour';
import { maskToContours } from '../../electron/engine/contours/mask-to-contours.js';
import { contoursToMask } from '../../electron/engine/contours/rasterize.js';
import { readNiftiLabels } from '../../electron/engine/nifti/nifti.js';
import { buildRtstruct } from '../../electron/engine/rtstruct/build.js';
import { preflight } from '../../electron/engine/rtstruct/preflight.js';
import { writeRtstruct } from '../../electron/engine/rtstruct/write.js';
import { readRtstruct, rasterizeStructures } from '../../electron/engine/rtstruct/read.js';
import { handSeries } from '../unit/rtstruct/fixtures.js';
import { dataDir } from '../helpers/data.js';

function time<T>(f: () => T, reps = 3): { ms: number; value: T } {
  let best = Infinity;
  let value!: T;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    value = f();
    best = Math.min(best, performance.now() - t0);
  }
  return { ms: best, value };
}

export async function bench(): Promise<void> {
  const file = join(dataDir(), 'totalseg/example_ct_dicom_seg_total_v2.nii.gz');
  if (!existsSync(file)) {
    process.stdout.write(`skipped: ${file} is absent\n`);
    return;
  }
  const lv = readNiftiLabels(file);
  const g = { dims: lv.dims, spacing: lv.spacing, origin: lv.origin, direction: lv.direction };
  const values = [...new Set(lv.data)].filter((v) => v !== 0);
  const masks = values.map((v) => Uint8Array.from(lv.data, (x) => (x === v ? 1 : 0)));
  const [w, h, d] = g.dims;

  const base = time(() => {
    let rings = 0;
    for (const m of masks) {
      for (let k = 0; k < d; k++) {
        const slice = m.subarray(k * w * h, (k + 1) * w * h);
        if (!slice.some((x) => x !== 0)) continue;
        const [mp] = d3contours().size([w, h]).smooth(false).thresholds([0.5])(slice as unknown as number[]);
        rings += mp ? mp.coordinates.reduce((a, p) => a + p.length, 0) : 0;
      }
    }
    return rings;
  });
  const ours = time(() => masks.map((m) => maskToContours(m, g)));
  const simplified = time(() => masks.map((m) => maskToContours(m, g, { simplifyMm: 0.5 })));
  const rings = ours.value.flat();
  const raster = time(() => ours.value.map((cs) => contoursToMask(cs.map((c) => c.points), g)));
  const series = handSeries(g);
  const structures = masks.map((mask, i) => ({ name: `L${values[i]}`, color: '#ff0000', mask }));
  const build = time(() => buildRtstruct(series, structures));
  const check = time(() => preflight(build.value.dataset, series));
  const dir = mkdtempSync(join(tmpdir(), 'bench-rtstruct-'));
  const out = join(dir, 'rs.dcm');
  const write = time(() => writeRtstruct(out, series, structures), 1);
  const read = time(() => rasterizeStructures(readRtstruct(out), g));
  rmSync(dir, { recursive: true, force: true });
  const points = rings.reduce((a, c) => a + c.points.length, 0);
  const simplePoints = simplified.value.flat().reduce((a, c) => a + c.points.length, 0);
  const line = (label: string, ms: number): string => `${label.padEnd(44)} ${ms.toFixed(1).padStart(8)} ms  ${(ms / base.ms).toFixed(2).padStart(6)}x baseline\n`;
  process.stdout.write(`${masks.length} structures on ${w}x${h}x${d}; ${rings.length} rings, ${points} points exact, ${simplePoints} simplified at 0.5 mm (d3 rings: ${base.value})\n`);
  process.stdout.write(line('baseline: d3-contour marching squares', base.ms));
  process.stdout.write(line('maskToContours (voxel edges)', ours.ms));
  process.stdout.write(line('maskToContours (simplified 0.5 mm)', simplified.ms));
  process.stdout.write(line('contoursToMask (even-odd raster)', raster.ms));
  process.stdout.write(line('buildRtstruct (contours + dataset)', build.ms));
  process.stdout.write(line('preflight', check.ms));
  process.stdout.write(line('writeRtstruct (build + preflight + file)', write.ms));
  process.stdout.write(line('readRtstruct + rasterise', read.ms));
}
