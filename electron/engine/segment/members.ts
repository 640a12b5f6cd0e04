/**
 * The template members of one structure as the localizers and segmenters take them: each member's
 * extreme points, with its CT and contour mask loaded on demand from the archive (the atlas backend
 * propagates the masks; MedLAM and MedSAM rarely need either). Shared by `delineate segment` and the
 * re-run of an edited structure (review/rerun.ts).
 */
import type { TemplateMemberInput } from '../localize/localizer.js';
import type { Db } from '../store/db.js';
import { getTemplateMask, membersWithMasks, type getTemplateSet } from '../store/templates.js';
import { loadFloatVolume } from '../volume/load.js';

type TemplateStructure = ReturnType<typeof getTemplateSet>['structures'][number];

export function templateMembers(db: Db, setName: string, structure: TemplateStructure, signal?: AbortSignal): TemplateMemberInput[] {
  const masked = membersWithMasks(db, setName);
  return structure.members.map((m) => ({
    seriesUid: m.seriesUid,
    points: m.points,
    loadVolume: () => loadFloatVolume(db, m.seriesUid, signal ? { signal } : {}),
    loadMask: async () => getTemplateMask(db, { set: setName, structure: structure.name, seriesUid: m.seriesUid }),
    hasMask: masked.has(`${structure.name}\u0000${m.seriesUid}`),
  }));
}
