/**
 * What structures a contour file offers, for the template derive form (issue 16: pick structure names
 * from the chosen RTSTRUCT or label map instead of pasting JSON). An RTSTRUCT gives its ROI names
 * (with their contour counts); a NIfTI label map gives the label values present, named from a names
 * file beside it when one exists: `<file>.json` (what `export labels` writes), `oar_names.json`
 * (OpenKBP) or a `class_map*.json` (TotalSegmentator), each a {value: name} object.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readLabelNames } from '../eval/sources.js';
import { readNiftiLabels } from '../nifti/nifti.js';
import { readRtstruct } from './read.js';

export interface ContourNames {
  kind: 'rtstruct' | 'labels';
  /** ROI names (rtstruct), or label values with the name the names file gives ('' when none does). */
  structures: { name: string; value?: number; contours?: number }[];
  /** The names file used for a label map. */
  namesFile?: string;
}

function namesFileFor(path: string, values: number[]): { file: string; names: Map<number, string> } | undefined {
  const dir = dirname(path);
  const stem = basename(path).replace(/\.nii(\.gz)?$/i, '');
  const candidates = [join(dir, `${stem}.json`), join(dir, 'oar_names.json')];
  try {
    candidates.push(...readdirSync(dir).filter((f) => /^class_map.*\.json$/i.test(f)).sort().map((f) => join(dir, f)));
  } catch {
    // An unreadable folder has no names file to offer; readNiftiLabels already read the map itself.
  }
  let best: { file: string; names: Map<number, string>; hits: number } | undefined;
  for (const file of candidates) {
    if (!existsSync(file)) continue;
    let names: Map<number, string>;
    try {
      names = readLabelNames(file);
    } catch {
      continue; // not a {value: name} file: another candidate may be
    }
    const hits = values.filter((v) => names.has(v)).length;
    if (hits > (best?.hits ?? 0)) best = { file, names, hits };
  }
  return best;
}

export function contourNames(path: string): ContourNames {
  if (/\.nii(\.gz)?$/i.test(path)) {
    const labels = readNiftiLabels(path);
    const present = new Set<number>();
    for (const v of labels.data) if (v > 0) present.add(v);
    const values = [...present].sort((a, b) => a - b);
    const named = namesFileFor(path, values);
    return {
      kind: 'labels',
      structures: values.map((value) => ({ value, name: named?.names.get(value) ?? '' })),
      ...(named ? { namesFile: named.file } : {}),
    };
  }
  const rs = readRtstruct(path);
  return { kind: 'rtstruct', structures: rs.structures.map((s) => ({ name: s.name, contours: s.contours.length })) };
}
