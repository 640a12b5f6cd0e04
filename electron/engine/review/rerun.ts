/**
 * Re-runs one structure of a series with a box or extreme points edited by a reviewer (issue 7,
 * Review: "re-run with edited extreme points or box"). Extreme points give the box as the localizers
 * derive it (per LPS axis, the min and max of the six points). The chosen segmenter (engine/backends.ts)
 * segments that structure on the new box; its mask is then limited to the box (half a voxel of slack),
 * because the reviewer's box is an explicit bound and the atlas backend propagates template contours
 * without looking at boxes. The stored row gets the new box, points and mask, the flag 'edited' (which
 * the RTSTRUCT export turns into ROI Generation Algorithm MANUAL, rtstruct/export.ts; PS3.3 C.8.8.6),
 * review state pending, and an 'edited' audit entry with the old and new box, all in one transaction.
 */
import { recordAudit } from '../audit/audit.js';
import { selectBackends } from '../backends.js';
import { InputError, NotFoundError } from '../errors.js';
import type { Box, StructureFlag } from '../localize/localizer.js';
import { templateMembers } from '../segment/members.js';
import type { Segmenter } from '../segment/segmenter.js';
import type { Db } from '../store/db.js';
import { getResultMask, getResults, upsertLocalization, upsertSegmentation, type ReviewState } from '../store/results.js';
import { getTemplateSet } from '../store/templates.js';
import { voxelToPatient, type Vec3 } from '../volume/geometry.js';
import { loadFloatVolume } from '../volume/load.js';
import type { Volume } from '../volume/volume.js';

/** The flag that marks a reviewer-edited result (read by rtstruct/export.ts). */
export const EDITED_FLAG: StructureFlag = 'edited';

export interface RerunRequest {
  seriesUid: string;
  templateSet: string;
  structure: string;
  box?: Box;
  /** Six extreme points, LPS mm. */
  extremePoints?: Vec3[];
  reviewer: string;
  signal?: AbortSignal;
  /** Models folder for the backend choice (absent: the weight-free atlas backend). */
  modelsDir?: string;
  /** Use this segmenter instead of the automatic choice (tests, or a caller that holds one). */
  segmenter?: Segmenter;
}

export interface RerunResult {
  seriesUid: string;
  templateSet: string;
  structure: string;
  boxes: Box[];
  extremePoints: Vec3[];
  voxels: number;
  volumeCc: number;
  reviewState: ReviewState;
  resultId: number;
}

/** The box of six extreme points: per LPS axis, their min and max (as the localizers do). */
export function boxFromPoints(points: Vec3[], where: string): Box {
  if (points.length !== 6) throw new InputError(`${where}: six extreme points are needed, got ${points.length}`);
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (const p of points) {
    if (p.length !== 3 || !p.every(Number.isFinite)) throw new InputError(`${where}: extreme point ${JSON.stringify(p)} is not three finite numbers (LPS mm)`);
    for (let a = 0; a < 3; a++) {
      min[a] = Math.min(min[a]!, p[a]!);
      max[a] = Math.max(max[a]!, p[a]!);
    }
  }
  return { min, max };
}

/** The LPS bounding box of a volume's voxel centres. */
function volumeBounds(v: Volume): Box {
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (const i of [0, v.dims[0] - 1]) for (const j of [0, v.dims[1] - 1]) for (const k of [0, v.dims[2] - 1]) {
    const p = voxelToPatient(v, [i, j, k]);
    for (let a = 0; a < 3; a++) {
      min[a] = Math.min(min[a]!, p[a]!);
      max[a] = Math.max(max[a]!, p[a]!);
    }
  }
  return { min, max };
}

function checkBox(box: Box, where: string): void {
  if (box.min.length !== 3 || box.max.length !== 3 || ![...box.min, ...box.max].every(Number.isFinite)) {
    throw new InputError(`${where}: the box must be two LPS points of three finite numbers`);
  }
  for (let a = 0; a < 3; a++) {
    if (!(box.min[a]! < box.max[a]!)) throw new InputError(`${where}: box min must be below max on every axis (axis ${'LPS'[a]}: ${box.min[a]} >= ${box.max[a]})`);
  }
}

/** Keeps the mask's voxels whose centre lies in the box, widened by half a voxel on each side. */
export function clipMaskToBox(v: Volume, mask: Uint8Array, box: Box): { mask: Uint8Array; voxels: number } {
  const out = new Uint8Array(mask.length);
  const slack = 0.5 * Math.max(...v.spacing);
  const [nx, ny, nz] = v.dims;
  let voxels = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const idx = i + nx * (j + ny * k);
        if (!mask[idx]) continue;
        const p = voxelToPatient(v, [i, j, k]);
        let inside = true;
        for (let a = 0; a < 3; a++) if (p[a]! < box.min[a]! - slack || p[a]! > box.max[a]! + slack) inside = false;
        if (inside) {
          out[idx] = 1;
          voxels++;
        }
      }
    }
  }
  return { mask: out, voxels };
}

export async function rerunStructure(db: Db, req: RerunRequest): Promise<RerunResult> {
  const { seriesUid, templateSet, structure } = req;
  const ctx = { seriesUid, templateSet, structure };
  const where = `re-run of ${structure} on series ${seriesUid} (set ${templateSet})`;
  if (req.reviewer.trim() === '') throw new InputError(`${where} needs a reviewer name`, ctx);
  if ((req.box === undefined) === (req.extremePoints === undefined)) throw new InputError(`${where}: give either a box or six extreme points`, ctx);
  const prev = getResults(db, seriesUid, templateSet).find((r) => r.structure === structure);
  if (!prev) throw new NotFoundError(`series ${seriesUid} has no result for ${structure} in template set '${templateSet}'`, ctx);
  const tmpl = getTemplateSet(db, templateSet).structures.find((s) => s.name === structure);
  if (!tmpl) throw new NotFoundError(`template set '${templateSet}' has no structure ${structure}`, ctx);
  const points = req.extremePoints?.map((p) => [...p] as Vec3) ?? [];
  const box: Box = req.extremePoints ? boxFromPoints(points, where) : { min: [...req.box!.min] as Vec3, max: [...req.box!.max] as Vec3 };
  checkBox(box, where);

  const volume = await loadFloatVolume(db, seriesUid, req.signal ? { signal: req.signal } : {});
  const bounds = volumeBounds(volume);
  for (let a = 0; a < 3; a++) {
    if (box.max[a]! < bounds.min[a]! || box.min[a]! > bounds.max[a]!) {
      throw new InputError(`${where}: the box lies outside the volume on axis ${'LPS'[a]} (volume ${bounds.min[a]!.toFixed(1)}..${bounds.max[a]!.toFixed(1)} mm)`, ctx);
    }
  }

  const segmenter = req.segmenter ?? (await selectBackends(req.modelsDir ? { modelsDir: req.modelsDir } : {})).segmenter;
  const [seg] = await segmenter.segment({
    seriesUid,
    volume,
    structures: [{ name: structure, boxes: [box], members: templateMembers(db, templateSet, tmpl, req.signal) }],
    ...(req.signal ? { signal: req.signal } : {}),
  });
  if (!seg) throw new InputError(`${where}: the ${segmenter.name} segmenter returned no mask`, ctx);
  const clipped = clipMaskToBox(volume, seg.mask, box);
  const voxelCc = (volume.spacing[0] * volume.spacing[1] * volume.spacing[2]) / 1000;
  const volumeCc = clipped.voxels * voxelCc;
  const oldVoxels = prev.voxels;
  const hadMask = getResultMask(db, prev.id) !== undefined;

  // 'absent' and 'cut-off' described the localizer's box; the reviewer's box replaces it.
  const kept = prev.flags.filter((f) => f !== 'absent' && f !== 'cut-off' && f !== EDITED_FLAG);
  const flags = [...kept, EDITED_FLAG];
  const segFlags = seg.flags.filter((f) => f !== 'absent' && f !== 'cut-off');
  db.transaction(() => {
    // Resets the mask and review (pending): an edited box invalidates any earlier approval.
    upsertLocalization(db, {
      seriesUid, templateSet, localizer: prev.localizer ?? 'manual', mode: prev.mode ?? 'wpl', models: prev.models,
      structures: [{ name: structure, boxes: [box], extremePoints: points, confidence: prev.confidence ?? NaN, flags }],
    });
    upsertSegmentation(db, {
      seriesUid, templateSet, segmenter: segmenter.name, models: segmenter.models(),
      structures: [{ name: structure, mask: clipped.mask, voxels: clipped.voxels, volumeCc, confidence: seg.confidence, flags: segFlags }],
    });
    recordAudit(db, {
      actor: req.reviewer,
      actorKind: 'user',
      action: 'edited',
      seriesUid,
      templateSet,
      structure,
      localizer: prev.localizer ?? '',
      segmenter: segmenter.name,
      models: segmenter.models(),
      templates: tmpl.members.map((m) => m.seriesUid),
      detail: {
        oldBoxes: prev.boxes,
        newBox: box,
        ...(points.length > 0 ? { oldExtremePoints: prev.extremePoints, newExtremePoints: points } : {}),
        oldVoxels: hadMask ? oldVoxels : null,
        newVoxels: clipped.voxels,
      },
    });
  }).immediate();
  const row = getResults(db, seriesUid, templateSet).find((r) => r.structure === structure)!;
  return { seriesUid, templateSet, structure, boxes: row.boxes, extremePoints: row.extremePoints, voxels: clipped.voxels, volumeCc, reviewState: row.reviewState, resultId: row.id };
}
