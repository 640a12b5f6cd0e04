/**
 * Template members derived from an RTSTRUCT (`template derive --rtstruct`): each ROI's closed planar
 * contours are rasterised onto the series grid and its six extreme points taken by the MedLAM
 * reference's rule (extremePointsFromLabels), so a clinic reuses the organs its planners already
 * drew (DESIGN.md "Templates"). The RTSTRUCT must refer to that series' frame of reference.
 */
import { InputError } from '../errors.js';
import { extremePointsFromLabels } from '../localize/extreme-points.js';
import type { Db } from '../store/db.js';
import { addTemplateMember } from '../store/templates.js';
import { getSeries, getSeriesGeometry } from '../store/archive.js';
import type { Vec3 } from '../volume/geometry.js';
import { exportNames } from './names.js';
import { rasterizeStructures, readRtstruct } from './read.js';

export interface DeriveFromRtstruct {
  set: string;
  seriesUid: string;
  file: string;
  /** Only these ROIs (by their name in the file, or the TG-263 name they map to); default all with contours. */
  structures?: string[];
  site?: string;
}

export interface DerivedStructure {
  name: string;
  /** The ROI name in the RTSTRUCT, when the stored structure name differs (TG-263, <= 16 characters). */
  roiName: string;
  points: Vec3[];
}

export function deriveTemplatesFromRtstruct(db: Db, req: DeriveFromRtstruct): { set: string; structures: DerivedStructure[]; warnings: string[] } {
  const file = req.file;
  const series = getSeries(db, req.seriesUid);
  const g = getSeriesGeometry(db, req.seriesUid);
  const rt = readRtstruct(file);
  if (rt.frameOfReferenceUid && series.frameOfReferenceUid && rt.frameOfReferenceUid !== series.frameOfReferenceUid) {
    throw new InputError(
      `RTSTRUCT ${file} is in frame of reference ${rt.frameOfReferenceUid}, series ${req.seriesUid} in ${series.frameOfReferenceUid}: it was not drawn on that series`,
      { file, seriesUid: req.seriesUid },
    );
  }
  const geometry = { dims: g.dims, spacing: g.spacing, origin: g.origin, direction: g.direction };
  const masks = rasterizeStructures(rt, geometry);
  const stored = exportNames(rt.structures.map((s) => s.name)).names;
  const wanted = req.structures?.length ? new Set(req.structures.map((s) => s.toLowerCase())) : undefined;
  const warnings: string[] = [];
  const out: DerivedStructure[] = [];
  rt.structures.forEach((s, i) => {
    const name = stored[i]!;
    if (wanted && !wanted.has(s.name.toLowerCase()) && !wanted.has(name.toLowerCase())) return;
    const m = masks[i]!;
    for (const sk of m.skipped) warnings.push(`${s.name}: contour ${sk.ring + 1} not used: ${sk.reason}`);
    const points = m.voxels > 0 ? extremePointsFromLabels({ ...geometry, data: m.mask }, 1) : undefined;
    if (!points) {
      warnings.push(`${s.name}: no closed contour on series ${req.seriesUid}; not derived`);
      return;
    }
    addTemplateMember(db, {
      set: req.set,
      structure: name,
      seriesUid: req.seriesUid,
      points,
      source: 'rtstruct',
      sourceRef: rt.sopInstanceUid || file,
      labelMask: m.mask,
      ...(req.site ? { site: req.site } : {}),
      ...(s.color ? { color: `#${s.color.map((c) => Math.max(0, Math.min(255, Math.round(c))).toString(16).padStart(2, '0')).join('')}` } : {}),
    });
    out.push({ name, roiName: s.name, points });
  });
  if (wanted) {
    const found = new Set(out.flatMap((d) => [d.name.toLowerCase(), d.roiName.toLowerCase()]));
    const missing = [...wanted].filter((w) => !found.has(w));
    if (missing.length > 0) throw new InputError(`RTSTRUCT ${file} has no usable ROI named ${missing.join(', ')} (it has ${rt.structures.map((s) => s.name).join(', ')})`, { file });
  }
  if (out.length === 0) throw new InputError(`RTSTRUCT ${file} has no closed planar contour on series ${req.seriesUid}`, { file, seriesUid: req.seriesUid });
  return { set: req.set, structures: out, warnings };
}
