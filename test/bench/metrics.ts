/**
 * `npm run bench -- metrics`: time per structure of every metric (Dice, HD95, surface Dice, boxes)
 * on a 512x512x99 CT grid (the 4D-Lung series' geometry: 0.977 mm pixels, 3 mm slices), for an
 * organ-sized and a lung-sized structure. Baseline in the same run: one distance transform over the
 * whole grid, which is what the metrics would cost without restricting the EDT to the structures'
 * padded bounding box.
 */
import { evaluateStructure } from '../../electron/engine/metrics/evaluate.js';
import { squaredDistanceTransform } from '../../electron/engine/metrics/edt.js';
import { IDENTITY, type Geometry, type Vec3 } from '../../electron/engine/volume/geometry.js';

function ellipsoid(g: Geometry, centre: Vec3, radii: Vec3): Uint8Array {
  const [nx, ny, nz] = g.dims;
  const m = new Uint8Array(nx * ny * nz);
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const x = (i * g.spacing[0] - centre[0]) / radii[0];
        const y = (j * g.spacing[1] - centre[1]) / radii[1];
        const z = (k * g.spacing[2] - centre[2]) / radii[2];
        if (x * x + y * y + z * z <= 1) m[i + nx * (j + ny * k)] = 1;
      }
  return m;
}

function time(fn: () => void, repeats: number): number {
  fn(); // warm-up (JIT)
  const t0 = performance.now();
  for (let r = 0; r < repeats; r++) fn();
  return (performance.now() - t0) / repeats;
}

export async function bench(): Promise<void> {
  const g: Geometry = { dims: [512, 512, 99], spacing: [0.977, 0.977, 3], origin: [0, 0, 0], direction: IDENTITY };
  const cases: { name: string; ref: Uint8Array; pred: Uint8Array }[] = [
    {
      name: 'organ (parotid-sized ellipsoid, 25x20x40 mm)',
      ref: ellipsoid(g, [250, 250, 150], [12.5, 10, 20]),
      pred: ellipsoid(g, [252, 249, 153], [13, 9.5, 19]),
    },
    {
      name: 'large (lung-sized ellipsoid, 160x200x240 mm)',
      ref: ellipsoid(g, [250, 250, 148], [80, 100, 120]),
      pred: ellipsoid(g, [254, 246, 151], [78, 103, 117]),
    },
  ];
  const full = new Uint8Array(g.dims[0] * g.dims[1] * g.dims[2]);
  full[full.length >> 1] = 1;
  const out = new Float64Array(full.length);
  const baseline = time(() => squaredDistanceTransform(full, g.dims, g.spacing, out), 2);
  process.stdout.write(`grid ${g.dims.join('x')} spacing ${g.spacing.join('x')} mm, node ${process.version}\n`);
  process.stdout.write(`baseline: one full-grid EDT ${baseline.toFixed(0)} ms\n`);
  for (const c of cases) {
    let last = evaluateStructure(c.name, c.ref, { mask: c.pred }, g);
    const ms = time(() => {
      last = evaluateStructure(c.name, c.ref, { mask: c.pred }, g);
    }, 3);
    process.stdout.write(
      `${c.name}: ${ms.toFixed(0)} ms per structure (${(ms / baseline).toFixed(2)} x baseline); ` +
        `dice ${last.dice?.toFixed(3)}, hd95 ${last.hd95Mm?.toFixed(2)} mm, surface Dice ${last.surfaceDice2mm?.toFixed(3)}\n`,
    );
  }
}
