/**
 * Atlas prior times intensity likelihood: the fused membership P(x) of a structure is a spatial prior
 * (where the templates put the organ), blind to the query's own voxels. Registration errors of a few
 * millimetres move a thin bone (the mandible), a cord in its canal or a gland against fat exactly
 * where the query's HU would tell the difference. One expectation step of the atlas-guided tissue
 * model (Van Leemput et al., IEEE TMI 1999; the intensity refinement step surveyed by Iglesias &
 * Sabuncu, Med Image Anal 2015):
 *
 *   p_in(I), p_out(I): HU histograms of the query weighted by P and 1 - P over the voxels the
 *                      templates reach (P > 0), Gaussian-smoothed (non-parametric, so the larynx's
 *                      air and cartilage or the mandible's cortex and marrow need no mixture model);
 *   posterior(x)      = P p_in(I(x)) / (P p_in(I(x)) + (1 - P) p_out(I(x))).
 *
 * The models are estimated per structure and per query, so nothing is learnt from other patients.
 * Voxels outside every template's reach keep P = 0: the refinement moves a boundary, it never adds a
 * region the atlas did not propose.
 */

export interface IntensityRefineOptions {
  /** Histogram bin width (HU). */
  binHu: number;
  /** Gaussian smoothing of the histograms (HU). */
  smoothHu: number;
}

/** Histogram range: air to dense cortical bone; values beyond clamp to the end bins. */
const LO_HU = -1100;
const HI_HU = 2100;

/**
 * Posterior membership per voxel, 0..1, written over `prior` (returned): on a 512 x 512 x 200 CT a
 * second full-volume copy would cost 200 MB per structure for nothing.
 */
export function refineWithIntensity(prior: Float32Array, hu: ArrayLike<number>, opts: IntensityRefineOptions): Float32Array {
  if (hu.length !== prior.length) throw new RangeError(`intensity refinement: ${prior.length} prior voxels, ${hu.length} CT voxels`);
  const bins = Math.ceil((HI_HU - LO_HU) / opts.binHu);
  const binOf = (v: number): number => Math.min(bins - 1, Math.max(0, Math.floor((v - LO_HU) / opts.binHu)));
  const hIn = new Float64Array(bins);
  const hOut = new Float64Array(bins);
  for (let q = 0; q < prior.length; q++) {
    const p = prior[q]!;
    if (p <= 0) continue;
    const b = binOf(hu[q]!);
    hIn[b] = hIn[b]! + p;
    hOut[b] = hOut[b]! + (1 - p);
  }
  const lIn = density(hIn, opts.smoothHu / opts.binHu);
  const lOut = density(hOut, opts.smoothHu / opts.binHu);
  for (let q = 0; q < prior.length; q++) {
    const p = prior[q]!;
    if (p <= 0 || p >= 1) continue;
    const b = binOf(hu[q]!);
    const a = p * lIn[b]!;
    prior[q] = a / (a + (1 - p) * lOut[b]!);
  }
  return prior;
}

/**
 * Smoothed, normalised histogram with a floor: an intensity never seen on one side keeps a small
 * likelihood there, so a single voxel cannot flip a confident prior.
 */
function density(h: Float64Array, sigmaBins: number): Float64Array {
  const r = Math.max(1, Math.ceil(3 * sigmaBins));
  const kernel = Array.from({ length: 2 * r + 1 }, (_, n) => Math.exp(-((n - r) ** 2) / (2 * sigmaBins * sigmaBins)));
  const out = new Float64Array(h.length);
  let total = 0;
  for (let b = 0; b < h.length; b++) {
    let acc = 0;
    for (let t = -r; t <= r; t++) {
      const bb = b + t;
      if (bb >= 0 && bb < h.length) acc += h[bb]! * kernel[t + r]!;
    }
    out[b] = acc;
    total += acc;
  }
  const floor = 1e-6;
  for (let b = 0; b < out.length; b++) out[b] = (total > 0 ? out[b]! / total : 0) + floor;
  return out;
}
