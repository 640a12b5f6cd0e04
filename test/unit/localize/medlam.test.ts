/**
 * MedlamLocalizer end to end on the tiny fixture network (test/fixtures/models/medlam-tiny, same
 * contract as the real one) and a synthetic CT: the whole path a fresh clone can run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers/data.js';
import { MedlamLocalizer, templateRowsFromPoints } from '../../../electron/engine/localize/medlam.js';
import { MemorySupportCache } from '../../../electron/engine/localize/support-cache.js';
import { preprocess } from '../../../electron/engine/localize/preprocess.js';
import { CancelledError } from '../../../electron/engine/errors.js';
import type { Vec3 } from '../../../electron/engine/volume/geometry.js';
import type { Volume } from '../../../electron/engine/volume/volume.js';
import type { StructureTemplates } from '../../../electron/engine/localize/localizer.js';

const MODELS = join(REPO_ROOT, 'test', 'fixtures', 'models', 'medlam-tiny');

/** A 40x36x24 CT (air, a soft-tissue body, a bright ellipsoid "organ") on an LPS-axial grid. */
function phantom(shift = 0): { vol: Volume; mask: Uint8Array; points: Vec3[] } {
  const dims: Vec3 = [40, 36, 24];
  const spacing: Vec3 = [3.5, 3.5, 4];
  const n = dims[0] * dims[1] * dims[2];
  const data = new Float32Array(n).fill(-1000);
  const mask = new Uint8Array(n);
  for (let k = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++) {
        const idx = i + dims[0] * (j + dims[1] * k);
        if ((i - 20) ** 2 / 300 + (j - 18) ** 2 / 220 < 1) data[idx] = 40;
        if ((i - 24 - shift) ** 2 / 16 + (j - 16) ** 2 / 9 + (k - 12) ** 2 / 25 < 1) {
          data[idx] = 400;
          mask[idx] = 1;
        }
      }
    }
  }
  const vol: Volume = { dims, spacing, origin: [-70, -60, -50], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data };
  const at = (i: number, j: number, k: number): Vec3 => [-70 + i * 3.5, -60 + j * 3.5, -50 + k * 4];
  const c = 24 + shift;
  const points: Vec3[] = [at(c - 3, 16, 12), at(c + 3, 16, 12), at(c, 14, 12), at(c, 18, 12), at(c, 16, 8), at(c, 16, 16)];
  return { vol, mask, points };
}

function templates(t: ReturnType<typeof phantom>, counter: { loads: number }, withMask: boolean): StructureTemplates[] {
  return [
    {
      name: 'Organ',
      members: [
        {
          seriesUid: 'tpl',
          points: t.points,
          loadVolume: async () => {
            counter.loads++;
            return t.vol;
          },
          ...(withMask ? { loadMask: async () => t.mask } : {}),
        },
      ],
    },
  ];
}

test('template points in stored slot order map to the reference rows in the padded 3 mm grid', async () => {
  const loc = await MedlamLocalizer.fromModelsDir(MODELS);
  const t = phantom();
  const pre = preprocess(t.vol as Volume<Float32Array>, loc.constants);
  const rows = templateRowsFromPoints(pre, t.points, 'Organ');
  // rows 0 zmin (inferior), 1 ymin (posterior), 2 xmin (right), 3 zmax, 4 ymax (anterior), 5 xmax (left)
  assert.ok(rows[0]![0] < rows[3]![0]);
  assert.ok(rows[1]![1] < rows[4]![1]);
  assert.ok(rows[2]![2] < rows[5]![2]);
  for (const r of rows) for (const v of r) assert.ok(Number.isInteger(v));
});

test('WPL localization returns one LPS box, six points, a confidence and flags; support comes from the cache the second time', async () => {
  const cache = new MemorySupportCache();
  const loc = await MedlamLocalizer.fromModelsDir(MODELS, { cache });
  assert.deepEqual(loc.models().map((m) => m.name), ['medlam_tiny-full', 'medlam_tiny-fc']);
  const t = phantom();
  const q = phantom(2);
  const counter = { loads: 0 };
  const progress: number[] = [];
  const req = { seriesUid: 'q', query: q.vol, templateSet: 'S', structures: templates(t, counter, false), mode: 'wpl' as const, onProgress: (p: { done: number }) => progress.push(p.done) };
  const [r] = await loc.localize(req);
  assert.ok(r);
  assert.equal(r.name, 'Organ');
  assert.equal(r.boxes.length, 1);
  assert.equal(r.extremePoints.length, 6);
  for (const a of [0, 1, 2]) assert.ok(r.boxes[0]!.min[a]! <= r.boxes[0]!.max[a]!);
  assert.ok(r.confidence >= 0 && r.confidence <= 1);
  assert.ok(r.flags.every((f) => ['absent', 'cut-off', 'low-confidence'].includes(f)));
  assert.ok(progress.length > 0);
  assert.equal(counter.loads, 1);
  const again = await loc.localize(req);
  assert.equal(counter.loads, 1, 'the template volume is not loaded again: support features are cached');
  assert.deepEqual(again[0]!.extremePoints, r.extremePoints, 'the same crops (seeded draws) and the cached support give the same answer');
});

test('SPL with a template mask gives a stack of boxes; without one it falls back to a single box', async () => {
  const loc = await MedlamLocalizer.fromModelsDir(MODELS);
  const t = phantom();
  const counter = { loads: 0 };
  const crops: Vec3[] = Array.from({ length: 10 }, () => [44, 50, 52] as Vec3);
  const spl = await loc.localize({ seriesUid: 'q', query: t.vol, templateSet: 'S', structures: templates(t, counter, true), mode: 'spl', queryCropCentres: crops });
  assert.ok(spl[0]!.boxes.length > 1, `boxes: ${spl[0]!.boxes.length}`);
  assert.equal(spl[0]!.extremePoints.length, 6 * spl[0]!.boxes.length);
  const wpl = await loc.localize({ seriesUid: 'q', query: t.vol, templateSet: 'S2', structures: templates(t, counter, false), mode: 'spl', queryCropCentres: crops });
  assert.equal(wpl[0]!.boxes.length, 1);
});

test('an aborted localization stops with CancelledError', async () => {
  const loc = await MedlamLocalizer.fromModelsDir(MODELS);
  const t = phantom();
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(loc.localize({ seriesUid: 'q', query: t.vol, templateSet: 'S', structures: templates(t, { loads: 0 }, false), mode: 'wpl', signal: ac.signal }), CancelledError);
});
