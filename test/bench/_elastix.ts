/**
 * The classic multi-atlas peer of the atlas benchmark: Debian's elastix 5 registers every template
 * CT to the query (one call chaining rigid, affine and cubic B-spline stages, each Mattes mutual
 * information with 32 bins, adaptive stochastic gradient descent, 3 resolutions, 2048 random
 * samples; the B-spline grid 15 mm as in the elastix model zoo's head-and-neck entry Par0028), with a
 * fixed-image mask from the query alone (HU > -500, largest component, dilated 10 mm) so the
 * samplers stay in the patient; transformix carries the template's label map (nearest neighbour) and
 * the templates vote per structure (in when at least half of them say so).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNiftiLabels, writeNifti } from '../../electron/engine/nifti/nifti.js';
import { keepLargestComponents } from '../../electron/engine/segment/cleanup.js';
import { squaredDistanceTransform } from '../../electron/engine/metrics/edt.js';
import type { Case, LibraryCase } from '../integration/atlas/openkbp.js';

export function elastixAvailable(): boolean {
  return ['elastix', 'transformix'].every((b) => spawnSync(b, ['--help'], { stdio: 'ignore' }).status === 0);
}

const COMMON = `(FixedInternalImagePixelType "float")
(MovingInternalImagePixelType "float")
(UseDirectionCosines "true")
(Registration "MultiResolutionRegistration")
(Interpolator "BSplineInterpolator")
(ResampleInterpolator "FinalBSplineInterpolator")
(Resampler "DefaultResampler")
(FixedImagePyramid "FixedSmoothingImagePyramid")
(MovingImagePyramid "MovingSmoothingImagePyramid")
(Optimizer "AdaptiveStochasticGradientDescent")
(Metric "AdvancedMattesMutualInformation")
(NumberOfHistogramBins 32)
(NumberOfResolutions 3)
(ImageSampler "RandomCoordinate")
(NumberOfSpatialSamples 2048)
(NewSamplesEveryIteration "true")
(ErodeMask "false")
(HowToCombineTransforms "Compose")
(DefaultPixelValue -1024)
(WriteResultImage "false")
(ResultImageFormat "nii.gz")
(ResultImagePixelType "short")
`;

const RIGID = `${COMMON}(Transform "EulerTransform")
(AutomaticTransformInitialization "true")
(AutomaticTransformInitializationMethod "GeometricalCenter")
(AutomaticScalesEstimation "true")
(MaximumNumberOfIterations 250)
`;

const AFFINE = `${COMMON}(Transform "AffineTransform")
(AutomaticScalesEstimation "true")
(MaximumNumberOfIterations 500)
`;

const BSPLINE = `${COMMON}(Transform "BSplineTransform")
(FinalGridSpacingInPhysicalUnits 15)
(GridSpacingSchedule 4 2 1)
(MaximumNumberOfIterations 500)
(FinalBSplineInterpolationOrder 3)
`;

/** The query's body, dilated: where elastix may sample the fixed image. */
function bodyMask(q: Case): Uint8Array {
  const m = new Uint8Array(q.ct.data.length);
  for (let n = 0; n < m.length; n++) m[n] = q.ct.data[n]! > -500 ? 1 : 0;
  keepLargestComponents(m, [...q.ct.dims], 1);
  const d2 = squaredDistanceTransform(m, q.ct.dims, q.ct.spacing);
  for (let n = 0; n < m.length; n++) m[n] = d2[n]! <= 100 ? 1 : 0;
  return m;
}

export interface PeerResult {
  masks: Map<string, Uint8Array>;
  seconds: number;
}

export async function elastixMajorityVote(q: Case, library: LibraryCase[], threads: number): Promise<PeerResult> {
  const dir = mkdtempSync(join(tmpdir(), 'delineate-elastix-'));
  try {
    const t0 = performance.now();
    const fixedMask = join(dir, 'mask.nii.gz');
    writeNifti(fixedMask, { ...q.ct, data: bodyMask(q) }, { datatype: 'uint8' });
    const params = ['rigid', 'affine', 'bspline'].map((n, i) => {
      const p = join(dir, `${n}.txt`);
      writeFileSync(p, [RIGID, AFFINE, BSPLINE][i]!);
      return p;
    });
    const votes = new Map<string, Uint16Array>();
    for (const name of Object.values(q.names)) votes.set(name, new Uint16Array(q.ct.data.length));
    for (const t of library) {
      const out = join(dir, `reg-${t.id}`);
      execFileSync('mkdir', ['-p', out]);
      execFileSync('elastix', [
        '-f', join(q.dir, `pt_${q.id}_ct.nii.gz`), '-m', join(t.dir, `pt_${t.id}_ct.nii.gz`), '-fMask', fixedMask,
        ...params.flatMap((p) => ['-p', p]), '-out', out, '-threads', String(threads),
      ], { stdio: 'ignore' });
      // Labels: nearest neighbour, background outside the template.
      const tp = readFileSync(join(out, 'TransformParameters.2.txt'), 'utf8')
        .replace(/\(FinalBSplineInterpolationOrder \d+\)/, '(FinalBSplineInterpolationOrder 0)')
        .replace(/\(DefaultPixelValue [^)]*\)/, '(DefaultPixelValue 0)');
      writeFileSync(join(out, 'labels-tp.txt'), tp);
      const warped = join(dir, `warp-${t.id}`);
      execFileSync('mkdir', ['-p', warped]);
      execFileSync('transformix', ['-in', join(t.dir, `pt_${t.id}_oar_labels.nii.gz`), '-tp', join(out, 'labels-tp.txt'), '-out', warped], { stdio: 'ignore' });
      const labels = readNiftiLabels(join(warped, 'result.nii.gz'));
      if (labels.data.length !== q.ct.data.length) throw new Error(`transformix result for template pt_${t.id} is not on the query grid`);
      for (const [value, name] of Object.entries(t.names)) {
        const v = votes.get(name);
        if (!v) continue;
        for (let n = 0; n < v.length; n++) if (labels.data[n] === Number(value)) v[n] = v[n]! + 1;
      }
    }
    const masks = new Map<string, Uint8Array>();
    for (const [name, v] of votes) {
      const m = new Uint8Array(v.length);
      for (let n = 0; n < v.length; n++) m[n] = 2 * v[n]! >= library.length ? 1 : 0;
      masks.set(name, m);
    }
    return { masks, seconds: (performance.now() - t0) / 1000 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

