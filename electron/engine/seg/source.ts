/**
 * A DICOM Segmentation as an evaluation source (`delineate eval --reference FILE.dcm` or
 * `--prediction FILE.dcm`): each segment, by its label, as a mask on the series grid.
 */
import { InputError } from '../errors.js';
import { readPart10 } from '../rtstruct/dcmjs.js';
import type { SeriesFrame, StructureSource } from '../eval/sources.js';
import type { Geometry } from '../volume/geometry.js';
import { SEGMENTATION_STORAGE } from './build.js';
import { readSeg } from './read.js';

/** True when the DICOM file is a Segmentation (SOP Class UID from its header). */
export function isSegFile(file: string): boolean {
  return readPart10(file, { untilPixelData: true }).dataset.SOPClassUID === SEGMENTATION_STORAGE;
}

export function segSource(file: string, grid: Geometry, series: SeriesFrame): StructureSource {
  const seg = readSeg(file, grid);
  if (series.frameOfReferenceUid && seg.frameOfReferenceUid && seg.frameOfReferenceUid !== series.frameOfReferenceUid) {
    throw new InputError(`Segmentation ${file} is in frame of reference ${seg.frameOfReferenceUid}, series ${series.seriesUid} in ${series.frameOfReferenceUid}`, { file, seriesUid: series.seriesUid });
  }
  return { source: file, structures: seg.segments.map((s) => ({ name: s.label, mask: s.mask })) };
}
