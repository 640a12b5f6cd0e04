/**
 * Worker-thread entry of the atlas pool (atlas-pool.ts): template registrations
 * (registration/template-job.ts) and label fusions (segment/atlas/fuse-structure.ts). Warped masks
 * and fused masks move back to the caller without a copy.
 */
import { serveJobs, type JobHandler } from '../../registration/pool.js';
import { runTemplateJob, type TemplateJob, type TemplateJobResult } from '../../registration/template-job.js';
import type { SegmentedStructure } from '../../segment/segmenter.js';
import { fuseStructure, type FuseJob } from '../../segment/atlas/fuse-structure.js';

const template: JobHandler<TemplateJob, TemplateJobResult> = {
  run: (job, progress) => runTemplateJob(job, undefined, progress),
  transfer: (result) => result.structures.flatMap((s) => (s.mask ? [s.mask.prob.buffer as ArrayBuffer] : [])),
};
const fuse: JobHandler<FuseJob, SegmentedStructure> = {
  run: (job) => fuseStructure(job),
  transfer: (s) => [s.mask.buffer as ArrayBuffer],
};

serveJobs({ template, fuse } as Record<string, JobHandler<never, unknown>>);
