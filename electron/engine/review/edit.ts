/**
 * A reviewer's mask edit (issue 16): the structure's mask as the reviewer painted it in the viewer
 * (brush, eraser, threshold brush, polygon fill, interpolation), on the series' voxel grid. Saving
 * stores it as a new revision (the previous one kept, store/results.ts), marks the structure 'edited'
 * (RTSTRUCT ROI Generation Algorithm MANUAL, PS3.3 C.8.8.6.1, rtstruct/export.ts), returns it to
 * pending review and writes an audit entry with the voxels added and removed, in one transaction.
 * A structure the series has no result for (one the template set lacks, drawn from scratch) is
 * created the same way, with a 'created' audit entry by the reviewer.
 */
import { recordAudit } from '../audit/audit.js';
import { DelineateError, InputError, NotFoundError } from '../errors.js';
import type { Box, StructureFlag } from '../localize/localizer.js';
import type { Db } from '../store/db.js';
import { getSeriesGeometry } from '../store/archive.js';
import { getResultMask, getResults, getRevisionMask, storeEditedMask } from '../store/results.js';
import { validateStructureName } from '../store/structures.js';
import { getTemplateSet } from '../store/templates.js';
import { voxelToPatient, type Geometry, type Vec3 } from '../volume/geometry.js';
import { EDITED_FLAG } from './rerun.js';
import { RleError, maskToWire, wireToMask } from './rle.js';

export interface StructureEditRequest {
  seriesUid: string;
  templateSet: string;
  structure: string;
  /** The whole mask on the series grid, as rle.ts packs it. */
  runs: string;
  reviewer: string;
  /** The revision the edit started from; a different current revision means someone saved meanwhile. */
  baseRevision?: number;
}

export interface StructureEditResult {
  structure: string;
  revision: number;
  voxels: number;
  volumeCc: number;
  voxelsAdded: number;
  voxelsRemoved: number;
  created: boolean;
}

/** The LPS box of the mask's voxel centres (for a drawn structure's row, as a localizer would give). */
function maskBox(g: Geometry, mask: Uint8Array): Box {
  const [nx, ny, nz] = g.dims;
  const lo: Vec3 = [Infinity, Infinity, Infinity];
  const hi: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    if (!mask[i + nx * (j + ny * k)]) continue;
    const p = [i, j, k];
    for (let a = 0; a < 3; a++) {
      lo[a] = Math.min(lo[a]!, p[a]!);
      hi[a] = Math.max(hi[a]!, p[a]!);
    }
  }
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (const i of [lo[0], hi[0]]) for (const j of [lo[1], hi[1]]) for (const k of [lo[2], hi[2]]) {
    const p = voxelToPatient(g, [i, j, k]);
    for (let a = 0; a < 3; a++) {
      min[a] = Math.min(min[a]!, p[a]!);
      max[a] = Math.max(max[a]!, p[a]!);
    }
  }
  return { min, max };
}

export function saveStructureEdit(db: Db, req: StructureEditRequest): StructureEditResult {
  const { seriesUid, templateSet } = req;
  const structure = validateStructureName(req.structure);
  const ctx = { seriesUid, templateSet, structure };
  const where = `edit of ${structure} on series ${seriesUid} (set ${templateSet})`;
  if (req.reviewer.trim() === '') throw new InputError(`${where} needs a reviewer name`, ctx);
  const g = getSeriesGeometry(db, seriesUid);
  const n = g.dims[0] * g.dims[1] * g.dims[2];
  if (n === 0) throw new InputError(`${where}: the series has no voxel grid`, ctx);
  let mask: Uint8Array;
  try {
    mask = wireToMask(req.runs, n, where);
  } catch (e) {
    if (e instanceof RleError) throw new InputError(e.message, ctx);
    throw e;
  }
  let voxels = 0;
  for (let i = 0; i < n; i++) voxels += mask[i]!;
  if (voxels === 0) throw new InputError(`${where}: the edited mask is empty; reject the structure instead of erasing it`, ctx);

  const set = getTemplateSet(db, templateSet); // throws NotFound naming the set
  const prev = getResults(db, seriesUid, templateSet).find((r) => r.structure === structure);
  const prevMask = prev ? getResultMask(db, prev.id) : undefined;
  if (req.baseRevision !== undefined && prev && prevMask && prev.revision !== req.baseRevision) {
    throw new DelineateError('conflict', `${where}: the edit started from revision ${req.baseRevision}, but revision ${prev.revision} was saved since; reload the structure`, ctx);
  }
  let added = 0;
  let removed = 0;
  for (let i = 0; i < n; i++) {
    const was = prevMask ? prevMask[i]! : 0;
    if (mask[i] && !was) added++;
    else if (!mask[i] && was) removed++;
  }
  const voxelCc = (g.spacing[0] * g.spacing[1] * g.spacing[2]) / 1000;
  const volumeCc = voxels * voxelCc;
  const flags: StructureFlag[] = [...(prev?.flags ?? []).filter((f) => f !== EDITED_FLAG && f !== 'absent'), EDITED_FLAG];
  const created = !prev;
  const tmpl = set.structures.find((s) => s.name === structure);

  const revision = db.transaction(() => {
    const rev = storeEditedMask(db, {
      seriesUid, templateSet, structure, mask, voxels, volumeCc, flags, actor: req.reviewer.trim(),
      ...(prev && prev.boxes.length > 0 ? {} : { boxes: [maskBox(g, mask)] }),
    });
    recordAudit(db, {
      actor: req.reviewer,
      actorKind: 'user',
      action: created ? 'created' : 'edited',
      seriesUid,
      templateSet,
      structure,
      localizer: prev?.localizer ?? 'manual',
      segmenter: 'manual',
      models: prev?.models ?? [],
      templates: tmpl ? tmpl.members.map((m) => m.seriesUid) : [],
      detail: {
        kind: 'mask-edit',
        revision: rev,
        previousRevision: prevMask ? prev!.revision : null,
        voxelsAdded: added,
        voxelsRemoved: removed,
        oldVoxels: prevMask ? prev!.voxels : null,
        newVoxels: voxels,
      },
    });
    return rev;
  }).immediate();
  return { structure, revision, voxels, volumeCc, voxelsAdded: added, voxelsRemoved: removed, created };
}

export interface StructureMaskResponse {
  structure: string;
  revision: number;
  voxels: number;
  dims: Vec3;
  runs: string;
}

/** A result's mask (the current revision, or an earlier one) packed for the api. */
export function structureMask(db: Db, req: { seriesUid: string; templateSet: string; structure: string; revision?: number }): StructureMaskResponse {
  const ctx = { seriesUid: req.seriesUid, templateSet: req.templateSet, structure: req.structure };
  const row = getResults(db, req.seriesUid, req.templateSet).find((r) => r.structure === req.structure);
  if (!row) throw new NotFoundError(`series ${req.seriesUid} has no result for ${req.structure} in template set '${req.templateSet}'`, ctx);
  if (req.revision === undefined && !row.hasMask) throw new NotFoundError(`${req.structure} on series ${req.seriesUid} has a box but no mask yet`, ctx);
  const revision = req.revision ?? row.revision;
  const mask = getRevisionMask(db, row.id, revision);
  let voxels = 0;
  for (let i = 0; i < mask.length; i++) voxels += mask[i] ? 1 : 0;
  const g = getSeriesGeometry(db, req.seriesUid);
  return { structure: row.structure, revision, voxels, dims: [...g.dims] as Vec3, runs: maskToWire(mask) };
}
