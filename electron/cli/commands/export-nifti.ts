/**
 * `delineate export nifti --series UID --out FILE`: the series' volume (HU, float32) as NIfTI-1 with
 * its voxel-to-patient mapping (written RAS as NIfTI requires). JSON: `{out, dims, spacing}`.
 */
import { resolve } from 'node:path';
import { req } from '../args.js';
import { writeNifti } from '../../engine/nifti/nifti.js';
import { loadVolume } from '../../engine/volume/load.js';
import type { Command } from '../command.js';

export const exportNiftiCommand: Command = {
  path: ['export', 'nifti'],
  summary: 'write a series volume (HU) as NIfTI',
  usage: 'delineate export nifti --series UID --out FILE.nii[.gz] [--db FILE] [--json]',
  flags: {
    series: { type: 'string', description: 'series instance UID' },
    out: { type: 'string', description: 'output .nii or .nii.gz file' },
  },
  async run(args, ctx) {
    const seriesUid = req(args, 'series');
    const out = resolve(req(args, 'out'));
    const vol = await loadVolume(ctx.db(), seriesUid, { signal: ctx.signal });
    writeNifti(out, vol);
    return { out, dims: vol.dims, spacing: vol.spacing };
  },
};
