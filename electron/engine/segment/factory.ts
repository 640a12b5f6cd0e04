/**
 * Builds the MedSAM segmenter from a models folder: the manifest's 'sam-encoder' and 'sam-decoder'
 * entries give the files and their verified sha256; the encoder entry's `constants` (written by
 * models/export/export_sam.py) give the preprocessing, falling back to MedSAM's published values.
 */
import { ModelError } from '../errors.js';
import { findModel, loadManifest, modelPath, requireModel, requireSelected } from '../models/manifest.js';
import { chooseExecutionProviders } from '../models/session.js';
import { MedsamSegmenter, type MedsamOptions } from './medsam.js';
import { MEDSAM_CONSTANTS, type SamPreprocessConstants } from './preprocess.js';

function isNumArray(v: unknown, n: number): v is number[] {
  return Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

/** Validated SAM constants from a manifest entry (unknown keys ignored, wrong types refused). */
export function samConstantsFrom(c: Record<string, unknown> | undefined, where: string): Partial<SamPreprocessConstants> {
  if (!c) return {};
  const out: Partial<SamPreprocessConstants> = {};
  const bad = (k: string): never => {
    throw new ModelError(`${where}: constant ${k} has the wrong type or size`);
  };
  if (c.windowHu !== undefined) out.windowHu = isNumArray(c.windowHu, 2) ? [c.windowHu[0]!, c.windowHu[1]!] : bad('windowHu');
  if (c.imageSize !== undefined) out.imageSize = typeof c.imageSize === 'number' ? c.imageSize : bad('imageSize');
  if (c.resizeOrder !== undefined) out.resizeOrder = typeof c.resizeOrder === 'number' ? c.resizeOrder : bad('resizeOrder');
  if (c.pixelMean !== undefined) out.pixelMean = isNumArray(c.pixelMean, 3) ? [c.pixelMean[0]!, c.pixelMean[1]!, c.pixelMean[2]!] : bad('pixelMean');
  if (c.pixelStd !== undefined) out.pixelStd = isNumArray(c.pixelStd, 3) ? [c.pixelStd[0]!, c.pixelStd[1]!, c.pixelStd[2]!] : bad('pixelStd');
  if (c.boxPaddingPx !== undefined) out.boxPaddingPx = typeof c.boxPaddingPx === 'number' ? c.boxPaddingPx : bad('boxPaddingPx');
  return out;
}

export interface MedsamFromDirOptions extends Omit<MedsamOptions, 'encoderFile' | 'decoderFile'> {
  /**
   * Use the dynamically int8-quantized encoder (manifest role 'sam-encoder-int8', written by
   * export_sam.py --quantize-encoder). Off by default: measured 1.5x faster on CPU, but not yet
   * validated on real weights. Its embeddings are cached under its own hash.
   */
  quantizedEncoder?: boolean;
}

export function medsamFromModelsDir(dir: string, opts: MedsamFromDirOptions = {}): MedsamSegmenter {
  const manifest = loadManifest(dir);
  const { quantizedEncoder, ...rest } = opts;
  // The encoder (and decoder) entries for the provider in use: a float16 encoder listed for GPU
  // providers in the manifest is used there and skipped on CPU (manifest.ts selectModel).
  const providers = opts.session?.executionProviders ?? chooseExecutionProviders(process.env, manifest.executionProviders);
  rest.session = { ...opts.session, executionProviders: providers };
  const enc = quantizedEncoder ? requireModel(manifest, 'sam-encoder-int8') : requireSelected(manifest, 'sam-encoder', providers[0]!);
  const dec = requireSelected(manifest, 'sam-decoder', providers[0]!);
  const encConstants = enc.constants ?? findModel(manifest, 'sam-encoder')?.constants;
  const constants = { ...MEDSAM_CONSTANTS, ...samConstantsFrom(encConstants, `${dir} model ${enc.name}`), ...(opts.constants ?? {}) };
  return new MedsamSegmenter({
    ...rest,
    encoderFile: modelPath(manifest, enc),
    decoderFile: modelPath(manifest, dec),
    encoderSha256: enc.sha256,
    decoderSha256: dec.sha256,
    constants,
  });
}
