/**
 * A structure file given on the command line or through the api: an RTSTRUCT (DICOM) or a label map
 * (NIfTI, with a names JSON). Told apart by content, not only by extension.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { InputError } from '../errors.js';
import type { Geometry } from '../volume/geometry.js';
import { labelMapSource, rtstructSource, type SeriesFrame, type StructureSource } from './sources.js';
import { isSegFile, segSource } from '../seg/source.js';

export type StructureFileKind = 'rtstruct' | 'labels';

export function structureFileKind(file: string): StructureFileKind {
  const lower = file.toLowerCase();
  if (lower.endsWith('.nii') || lower.endsWith('.nii.gz')) return 'labels';
  let head: Buffer;
  try {
    const fd = openSync(file, 'r');
    try {
      head = Buffer.alloc(352);
      const n = readSync(fd, head, 0, head.length, 0);
      head = head.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  } catch (cause) {
    throw new InputError(`cannot read ${file}: ${(cause as Error).message}`, { file }, { cause });
  }
  if (head.length >= 132 && head.toString('latin1', 128, 132) === 'DICM') return 'rtstruct';
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'labels'; // gzip: a .nii.gz by another name
  if (head.length >= 348 && (head.toString('latin1', 344, 348) === 'n+1\0' || head.readInt32LE(0) === 348)) return 'labels';
  if (lower.endsWith('.dcm')) return 'rtstruct';
  throw new InputError(`${file} is neither a DICOM RTSTRUCT nor a NIfTI label map`, { file });
}

export function structureFileSource(file: string, namesFile: string | undefined, grid: Geometry, series: SeriesFrame): StructureSource {
  const kind = structureFileKind(file);
  // A DICOM file is an RTSTRUCT or a Segmentation: told apart by its SOP Class UID.
  if (kind === 'rtstruct') return isSegFile(file) ? segSource(file, grid, series) : rtstructSource(file, grid, series);
  if (!namesFile) throw new InputError(`label map ${file} needs --names FILE (a JSON object mapping label values to structure names)`, { file });
  return labelMapSource(file, namesFile, grid, series.seriesUid);
}
