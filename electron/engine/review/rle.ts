/**
 * Run-length encoding of a binary mask on a series grid, for masks that cross the api (the renderer
 * loads a structure into its labelmap and sends an edited one back). Voxels are in the grid's order:
 * i (columns) fastest, then j (rows), then k (slices). The runs alternate, starting with a run of
 * zeros (possibly empty): [zeros, ones, zeros, ones, ...], and sum to the voxel count.
 *
 * On the wire the runs are unsigned LEB128 varints in base64 (a 512x512x150 organ mask is a few
 * hundred kB, well inside the bridge's 1 MiB body limit, where a JSON number array would not be).
 * Pure code, no Node imports: the renderer uses the same functions.
 */

export class RleError extends Error {
  override name = 'RleError';
}

/** Runs of `mask` (any non-zero value counts as inside). */
export function encodeRuns(mask: ArrayLike<number>): number[] {
  const runs: number[] = [];
  let value = 0;
  let n = 0;
  for (let i = 0; i < mask.length; i++) {
    const v = mask[i] ? 1 : 0;
    if (v === value) n++;
    else {
      runs.push(n);
      value = v;
      n = 1;
    }
  }
  runs.push(n);
  return runs;
}

/** The mask of `runs`; throws when they do not cover exactly `length` voxels. */
export function decodeRuns(runs: readonly number[], length: number, where: string): Uint8Array {
  const out = new Uint8Array(length);
  let pos = 0;
  for (let r = 0; r < runs.length; r++) {
    const n = runs[r]!;
    if (!Number.isInteger(n) || n < 0) throw new RleError(`${where}: run ${r} is ${n}, not a non-negative integer`);
    if (pos + n > length) throw new RleError(`${where}: the runs cover more than the ${length} voxels of the grid`);
    if (r % 2 === 1) out.fill(1, pos, pos + n);
    pos += n;
  }
  if (pos !== length) throw new RleError(`${where}: the runs cover ${pos} voxels, the grid has ${length}`);
  return out;
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) s += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(s);
}

function fromBase64(text: string, where: string): Uint8Array {
  let s: string;
  try {
    s = atob(text);
  } catch {
    throw new RleError(`${where}: the runs are not valid base64`);
  }
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Runs as base64 LEB128 varints (the api's `runs` field). */
export function packRuns(runs: readonly number[]): string {
  const bytes: number[] = [];
  for (const r of runs) {
    let v = r;
    while (v >= 0x80) {
      bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    bytes.push(v);
  }
  return toBase64(Uint8Array.from(bytes));
}

export function unpackRuns(text: string, where: string): number[] {
  const bytes = fromBase64(text, where);
  const runs: number[] = [];
  let v = 0;
  let scale = 1;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    v += (b & 0x7f) * scale;
    if (b & 0x80) {
      scale *= 0x80;
      if (scale > 2 ** 49) throw new RleError(`${where}: a run is too long to be a voxel count`);
    } else {
      runs.push(v);
      v = 0;
      scale = 1;
    }
  }
  if (scale !== 1) throw new RleError(`${where}: the runs end inside a number`);
  return runs;
}

/** Mask -> wire text, and back (with the grid size checked). */
export const maskToWire = (mask: ArrayLike<number>): string => packRuns(encodeRuns(mask));
export const wireToMask = (text: string, length: number, where: string): Uint8Array => decodeRuns(unpackRuns(text, where), length, where);
