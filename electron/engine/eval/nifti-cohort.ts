/**
 * A cohort as a folder of labelled NIfTI volumes: ID<ctSuffix> (CT) beside ID<labelsSuffix> (label
 * map), e.g. OpenKBP's pt_4_ct.nii.gz + pt_4_oar_labels.nii.gz with oar_names.json. A label map on
 * another grid than its CT is resampled onto it by nearest neighbour (and refused if off the CT).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { readNifti, readNiftiLabels } from '../nifti/nifti.js';
import type { LabelVolume, Volume } from '../volume/volume.js';
import type { CohortCase } from './cohort.js';
import { labelsOnGrid } from './resample-labels.js';

export interface NiftiCohortOptions {
  ctSuffix?: string;
  labelsSuffix?: string;
  /** Only these case ids. */
  only?: string[];
}

export const DEFAULT_CT_SUFFIX = '_ct.nii.gz';
export const DEFAULT_LABELS_SUFFIX = '_oar_labels.nii.gz';

/** Natural order: pt_4 before pt_13. */
function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

export function niftiCohort(dir: string, opts: NiftiCohortOptions = {}): CohortCase[] {
  const ctSuffix = opts.ctSuffix ?? DEFAULT_CT_SUFFIX;
  const labelsSuffix = opts.labelsSuffix ?? DEFAULT_LABELS_SUFFIX;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (cause) {
    throw new InputError(`cannot read cohort folder ${dir}: ${(cause as Error).message}`, { file: dir }, { cause });
  }
  let ids = entries
    .filter((f) => f.endsWith(ctSuffix))
    .map((f) => f.slice(0, -ctSuffix.length))
    .filter((id) => existsSync(join(dir, `${id}${labelsSuffix}`)))
    .sort(naturalCompare);
  if (opts.only && opts.only.length > 0) {
    const missing = opts.only.filter((o) => !ids.includes(o));
    if (missing.length > 0) throw new InputError(`cohort folder ${dir} has no case ${missing.join(', ')} (cases: ${ids.join(', ')})`, { file: dir });
    ids = ids.filter((id) => opts.only!.includes(id));
  }
  if (ids.length === 0) {
    throw new InputError(`cohort folder ${dir} holds no pair ID${ctSuffix} + ID${labelsSuffix}`, { file: dir });
  }
  return ids.map((id) => {
    const ctFile = join(dir, `${id}${ctSuffix}`);
    const labelsFile = join(dir, `${id}${labelsSuffix}`);
    let ct: Volume | undefined;
    let labels: LabelVolume | undefined;
    // Small cohorts (OpenKBP: 128^3) stay in memory once read; leave-one-out reads each case often.
    const loadVolume = async (): Promise<Volume> => (ct ??= readNifti(ctFile));
    return {
      id,
      loadVolume,
      async loadLabels(): Promise<LabelVolume> {
        if (labels) return labels;
        const raw = readNiftiLabels(labelsFile);
        const grid = await loadVolume();
        const data = labelsOnGrid(raw, grid, { file: labelsFile, seriesUid: id });
        labels = { dims: grid.dims, spacing: grid.spacing, origin: grid.origin, direction: grid.direction, data };
        return labels;
      },
    };
  });
}
