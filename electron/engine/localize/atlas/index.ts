/**
 * The atlas backend (no model weights): a localizer and a segmenter sharing one transform cache, so
 * that segmenting a series right after localizing it reuses the registrations, and the segmentations
 * the localizer made for its boxes (options.boxFromSegmentation).
 *
 *   const { localizer, segmenter } = createAtlasBackend({ workers: 2 });
 */
import { AtlasSegmenter } from '../../segment/atlas/atlas-segmenter.js';
import { AtlasLocalizer, type AtlasBackendOptions } from './atlas-localizer.js';
import { TransformCache } from './templates.js';

export { AtlasLocalizer, type AtlasBackendOptions } from './atlas-localizer.js';
export { AtlasSegmenter } from '../../segment/atlas/atlas-segmenter.js';
export { DEFAULT_ATLAS_OPTIONS, type AtlasOptions } from '../../registration/template-job.js';

export interface AtlasBackend {
  localizer: AtlasLocalizer;
  segmenter: AtlasSegmenter;
}

export function createAtlasBackend(opts: AtlasBackendOptions = {}): AtlasBackend {
  const cache = new TransformCache();
  const segmenter = new AtlasSegmenter(opts, cache);
  return { localizer: new AtlasLocalizer(opts, cache, segmenter), segmenter };
}
