/**
 * The backends a cohort evaluation can run, by name (`eval cohort --backend NAME [--segmenter NAME]`).
 * A localizer implementation registers here with one line in LOCALIZERS; segmenters likewise. Models
 * come from the verified manifest of the models folder (models/manifest.ts).
 */
import { NotFoundError } from '../errors.js';
import { createAtlasBackend, type AtlasBackend } from '../localize/atlas/index.js';
import type { Localizer } from '../localize/localizer.js';
import { medsamFromModelsDir } from '../segment/factory.js';
import { medlamFromModelsDir } from '../localize/medlam.js';
import type { Segmenter } from '../segment/segmenter.js';

export interface BackendOptions {
  modelsDir: string;
}

export type LocalizerFactory = (o: BackendOptions) => Promise<Localizer>;
export type SegmenterFactory = (o: BackendOptions) => Promise<Segmenter>;

/** The atlas localizer and segmenter share one transform cache, so segmenting reuses the registrations. */
let atlas: AtlasBackend | undefined;
const atlasBackend = (): AtlasBackend => (atlas ??= createAtlasBackend());

/** Localizers by name. */
export const LOCALIZERS: Record<string, LocalizerFactory> = {
  medlam: async ({ modelsDir }) => medlamFromModelsDir(modelsDir),
  atlas: async () => atlasBackend().localizer,
};

export const SEGMENTERS: Record<string, SegmenterFactory> = {
  medsam: async ({ modelsDir }) => medsamFromModelsDir(modelsDir),
  atlas: async () => atlasBackend().segmenter,
};

export async function createLocalizer(name: string, o: BackendOptions): Promise<Localizer> {
  const f = LOCALIZERS[name];
  if (!f) {
    const known = Object.keys(LOCALIZERS);
    throw new NotFoundError(`no localizer backend '${name}' in this build (available: ${known.length > 0 ? known.join(', ') : 'none yet'})`);
  }
  return f(o);
}

export async function createSegmenter(name: string, o: BackendOptions): Promise<Segmenter> {
  const f = SEGMENTERS[name];
  if (!f) throw new NotFoundError(`no segmenter backend '${name}' in this build (available: ${Object.keys(SEGMENTERS).join(', ')})`);
  return f(o);
}
