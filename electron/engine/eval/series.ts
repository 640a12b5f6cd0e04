/**
 * The series grid evaluation rasterises onto: read from the archive index (series.geometry_json,
 * migration 001), without loading voxels, since metrics need only the geometry.
 */
import type { Db } from '../store/db.js';
import { InputError, NotFoundError } from '../errors.js';
import type { Geometry, Mat3, Vec3 } from '../volume/geometry.js';

export interface SeriesGrid {
  seriesUid: string;
  frameOfReferenceUid: string;
  geometry: Geometry;
}

export function seriesGrid(db: Db, seriesUid: string): SeriesGrid {
  const row = db.prepare('SELECT frame_of_reference_uid AS f, geometry_json AS g FROM series WHERE series_uid = ?').get(seriesUid) as
    | { f: string; g: string | null }
    | undefined;
  if (!row) throw new NotFoundError(`series ${seriesUid} is not in the database: import it first`, { seriesUid });
  if (!row.g) throw new InputError(`series ${seriesUid} has no assembled geometry (its import reported why)`, { seriesUid });
  const g = JSON.parse(row.g) as { dims: Vec3; spacing: Vec3; origin: Vec3; direction: Mat3 };
  return { seriesUid, frameOfReferenceUid: row.f, geometry: { dims: g.dims, spacing: g.spacing, origin: g.origin, direction: g.direction } };
}

export interface ReferenceCandidate {
  sopInstanceUid: string;
  path: string;
  label: string;
}

/**
 * RTSTRUCTs in the archive drawn on this series: what the review panel can offer as a reference
 * (the planner picks one; an RTSTRUCT this product exported would only score itself).
 */
export function referenceCandidates(db: Db, seriesUid: string): ReferenceCandidate[] {
  return db
    .prepare(
      `SELECT sop_instance_uid AS sopInstanceUid, path, label FROM objects
       WHERE modality = 'RTSTRUCT' AND referenced_series_uid = ? ORDER BY path`,
    )
    .all(seriesUid) as ReferenceCandidate[];
}
