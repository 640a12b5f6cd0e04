/**
 * The CT series an RTSTRUCT is written against, from the archive: UIDs, frame of reference, slice
 * order and positions from the index (the importer derives UIDs for files that lack them, as
 * example_ct_dicom does), patient and study attributes from the first CT file's header.
 */
import { InputError } from '../errors.js';
import { getInstances, getSeries, getSeriesGeometry } from '../store/archive.js';
import type { Db } from '../store/db.js';
import { readPart10 } from './dcmjs.js';
import type { CtSeriesRef } from './types.js';

export function seriesRefFromArchive(db: Db, seriesUid: string): CtSeriesRef {
  const s = getSeries(db, seriesUid);
  const g = getSeriesGeometry(db, seriesUid);
  if (g.source !== 'dicom') {
    throw new InputError(`series ${seriesUid} was imported from NIfTI: an RTSTRUCT needs the DICOM images it refers to`, { seriesUid });
  }
  const instances = getInstances(db, seriesUid).sort((a, b) => a.sliceIndex - b.sliceIndex);
  if (instances.length === 0) throw new InputError(`series ${seriesUid} has no images in the archive`, { seriesUid });
  const first = instances[0]!;
  const { dataset } = readPart10(first.path, { untilPixelData: true });
  return {
    seriesInstanceUid: seriesUid,
    studyInstanceUid: s.studyUid,
    frameOfReferenceUid: s.frameOfReferenceUid,
    header: dataset,
    instances: instances.map((i) => ({ sopInstanceUid: i.sopInstanceUid, sopClassUid: i.sopClassUid, position: i.position })),
    geometry: { dims: g.dims, spacing: g.spacing, origin: g.origin, direction: g.direction },
  };
}
