/**
 * Template members derived from a label map (NIfTI + a JSON of label value -> structure name), by the
 * MedLAM reference's extreme-point rule (electron/engine/localize/extreme-points.ts, parity quirk Q6).
 * Shared by the api (deriveTemplatesFromLabels) and the CLI (`template derive --labels`).
 */
import type { SeriesSummary, Vec3 } from '../api.js';
import { InputError } from './errors.js';
import { extremePointsFromLabels } from './localize/extreme-points.js';
import { readNiftiLabels } from './nifti/nifti.js';
import type { Db } from './store/db.js';
import { exportNames } from './rtstruct/names.js';
import { addTemplateMember, getTemplateSet } from './store/templates.js';
import { patientToVoxel, voxelToPatient, type Geometry } from './volume/geometry.js';

export interface DeriveFromLabels {
  set: string;
  seriesUid: string;
  labelsPath: string;
  /** Label value (as a decimal string) -> structure name. */
  names: Record<string, string>;
  /** Only these structure names (default: every name in `names` present in the map). */
  structures?: string[];
  series: Pick<SeriesSummary, 'seriesUid' | 'dims' | 'spacing' | 'origin' | 'direction'>;
}

/** Same grid within 0.01 mm at the first and last voxel centres and the same dims. */
function sameGrid(a: Geometry, b: Geometry): boolean {
  if (a.dims.some((d, i) => d !== b.dims[i])) return false;
  const last: Vec3 = [a.dims[0] - 1, a.dims[1] - 1, a.dims[2] - 1];
  for (const ijk of [[0, 0, 0] as Vec3, last, [last[0], 0, 0] as Vec3, [0, last[1], 0] as Vec3]) {
    const p = voxelToPatient(a, ijk);
    const q = voxelToPatient(b, ijk);
    if (Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]) > 0.01) return false;
  }
  return true;
}

export async function deriveFromLabelFile(db: Db, req: DeriveFromLabels): Promise<{ name: string; points: Vec3[] }[]> {
  const labels = readNiftiLabels(req.labelsPath);
  const file = req.labelsPath;
  const raw = Object.entries(req.names).map(([value, name]) => {
    const v = Number(value);
    if (!Number.isInteger(v) || v <= 0) throw new InputError(`names file: '${value}' is not a positive label value`, { file });
    return { value: v, label: name.trim() };
  });
  // Label names become TG-263 structure names of at most 16 characters, as RTSTRUCT export names
  // them (rtstruct/names.ts), so derived templates and exported contours agree.
  const mapped = exportNames(raw.map((e) => e.label)).names;
  const entries = raw.map((e, i) => ({ ...e, name: mapped[i]! }));
  let wanted = entries;
  if (req.structures && req.structures.length > 0) {
    wanted = req.structures.map((s) => {
      const key = s.trim().toLowerCase();
      const e = entries.find((x) => x.name.toLowerCase() === key || x.label.toLowerCase() === key);
      if (!e) throw new InputError(`structure ${s} is not named in the label names (${entries.map((x) => x.label).join(', ')})`, { file, structure: s });
      return e;
    });
  }
  const series: Geometry = { dims: req.series.dims, spacing: req.series.spacing, origin: req.series.origin, direction: req.series.direction };
  const onGrid = sameGrid(labels, series);
  // Everything is read and checked first, then stored in one transaction: a map that fails on its
  // third structure leaves none of the first two behind (a bulk derive skips it whole).
  const out: { name: string; points: Vec3[]; mask?: Uint8Array }[] = [];
  const missing: string[] = [];
  await new Promise<void>((r) => setImmediate(r));
  for (const e of wanted) {
    const points = extremePointsFromLabels(labels, e.value);
    if (!points) {
      missing.push(`${e.name} (label ${e.value})`);
      continue;
    }
    if (!onGrid) {
      // A label map on another grid must still lie on the series: every point inside its voxel box.
      for (const p of points) {
        const ijk = patientToVoxel(series, p);
        if (ijk.some((c, i) => c < -0.5 || c > series.dims[i]! - 0.5)) {
          throw new InputError(`label ${e.value} (${e.name}) of ${file} lies outside series ${req.seriesUid}: is it the label map of another scan?`, {
            file,
            structure: e.name,
            seriesUid: req.seriesUid,
          });
        }
      }
    }
    let mask: Uint8Array | undefined;
    if (onGrid) {
      mask = new Uint8Array(labels.data.length);
      for (let i = 0; i < mask.length; i++) mask[i] = labels.data[i] === e.value ? 1 : 0;
    }
    out.push({ name: e.name, points, ...(mask ? { mask } : {}) });
    await new Promise<void>((r) => setImmediate(r));
  }
  if (req.structures && req.structures.length > 0 && missing.length > 0) {
    throw new InputError(`label map ${file} holds no voxels for ${missing.join(', ')}`, { file });
  }
  if (out.length === 0) throw new InputError(`label map ${file} holds none of the named labels`, { file });
  db.transaction(() => {
    for (const o of out) {
      addTemplateMember(db, {
        set: req.set,
        structure: o.name,
        seriesUid: req.seriesUid,
        points: o.points,
        source: 'labels',
        sourceRef: file,
        ...(o.mask ? { labelMask: o.mask } : {}),
      });
    }
  })();
  // Report the stored (slot-ordered) points.
  const stored = getTemplateSet(db, req.set.trim());
  return out.map((o) => ({
    name: o.name,
    points: stored.structures.find((s) => s.name === o.name)?.members.find((m) => m.seriesUid === req.seriesUid)?.points ?? o.points,
  }));
}
