/**
 * 3-D clean-up of a structure assembled from per-slice SAM masks (product path only; the reference
 * has none, parity README M9). SAM segments every slice of the box independently, so a structure can
 * pick up islands (a neighbouring organ with similar contrast), holes, and stray slices at the ends
 * of the box. Per structure:
 *
 * - keep the N largest 6-connected components (1 for most organs, 2 for paired ones stored as one
 *   structure, e.g. "Lungs");
 * - fill in-plane holes (background regions not connected to the slice border) unless the anatomy
 *   has real ones (configurable);
 * - keep the longest run of consecutive non-empty slices, dropping slices separated by a gap.
 */

export interface CleanupRule {
  /** Connected components to keep (largest first); 0 keeps everything. */
  components: number;
  /** Fill holes slice by slice. */
  fillHoles: boolean;
  /** Drop slices not in the longest run of consecutive non-empty slices. */
  continuity: boolean;
}

export const DEFAULT_RULE: CleanupRule = { components: 1, fillHoles: true, continuity: true };

/** Defaults by TG-263 name (case-insensitive); anything else gets DEFAULT_RULE. */
export const DEFAULT_RULES: Record<string, Partial<CleanupRule>> = {
  lungs: { components: 2 },
  kidneys: { components: 2 },
  parotids: { components: 2 },
  // A bowel bag or a lumen contour may legitimately enclose air: leave holes.
  bowel: { fillHoles: false, components: 0 },
  bowel_bag: { fillHoles: false, components: 0 },
};

export function ruleFor(name: string, overrides: Record<string, Partial<CleanupRule>> = {}): CleanupRule {
  const key = name.toLowerCase();
  const o = Object.entries(overrides).find(([k]) => k.toLowerCase() === key)?.[1];
  return { ...DEFAULT_RULE, ...(DEFAULT_RULES[key] ?? {}), ...(o ?? {}) };
}

/** Labels 6-connected components; returns labels (0 = background) and sizes (index = label). */
export function connectedComponents(mask: Uint8Array, dims: [number, number, number]): { labels: Int32Array; sizes: number[] } {
  const [ni, nj, nk] = dims;
  const plane = ni * nj;
  const labels = new Int32Array(mask.length);
  const sizes = [0];
  const stack = new Int32Array(mask.length);
  for (let s = 0; s < mask.length; s++) {
    if (!mask[s] || labels[s]) continue;
    const lab = sizes.length;
    let top = 0;
    let size = 0;
    stack[top++] = s;
    labels[s] = lab;
    while (top > 0) {
      const p = stack[--top]!;
      size++;
      const i = p % ni;
      const j = Math.floor(p / ni) % nj;
      const k = Math.floor(p / plane);
      const visit = (q: number): void => {
        if (mask[q] && !labels[q]) {
          labels[q] = lab;
          stack[top++] = q;
        }
      };
      if (i > 0) visit(p - 1);
      if (i < ni - 1) visit(p + 1);
      if (j > 0) visit(p - ni);
      if (j < nj - 1) visit(p + ni);
      if (k > 0) visit(p - plane);
      if (k < nk - 1) visit(p + plane);
    }
    sizes.push(size);
  }
  return { labels, sizes };
}

export function keepLargestComponents(mask: Uint8Array, dims: [number, number, number], n: number): void {
  if (n <= 0) return;
  const { labels, sizes } = connectedComponents(mask, dims);
  if (sizes.length - 1 <= n) return;
  const order = sizes
    .map((s, l) => [s, l] as const)
    .slice(1)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  const keep = new Set(order.slice(0, n).map(([, l]) => l));
  for (let p = 0; p < mask.length; p++) if (mask[p] && !keep.has(labels[p]!)) mask[p] = 0;
}

/** Fills background regions of each axial slice that do not touch the slice border (4-connected). */
export function fillHolesPerSlice(mask: Uint8Array, dims: [number, number, number]): void {
  const [ni, nj, nk] = dims;
  const plane = ni * nj;
  const outside = new Uint8Array(plane);
  const stack = new Int32Array(plane);
  for (let k = 0; k < nk; k++) {
    const off = k * plane;
    let any = false;
    for (let p = 0; p < plane; p++) if (mask[off + p]) { any = true; break; }
    if (!any) continue;
    outside.fill(0);
    let top = 0;
    const seed = (p: number): void => {
      if (!mask[off + p] && !outside[p]) {
        outside[p] = 1;
        stack[top++] = p;
      }
    };
    for (let i = 0; i < ni; i++) { seed(i); seed((nj - 1) * ni + i); }
    for (let j = 0; j < nj; j++) { seed(j * ni); seed(j * ni + ni - 1); }
    while (top > 0) {
      const p = stack[--top]!;
      const i = p % ni;
      const j = Math.floor(p / ni);
      if (i > 0) seed(p - 1);
      if (i < ni - 1) seed(p + 1);
      if (j > 0) seed(p - ni);
      if (j < nj - 1) seed(p + ni);
    }
    for (let p = 0; p < plane; p++) if (!outside[p]) mask[off + p] = 1;
  }
}

/** Keeps only the longest run of consecutive non-empty slices (ties: the one with more voxels). */
export function keepLongestSliceRun(mask: Uint8Array, dims: [number, number, number]): void {
  const [ni, nj, nk] = dims;
  const plane = ni * nj;
  const counts = new Array<number>(nk).fill(0);
  for (let k = 0; k < nk; k++) {
    let c = 0;
    for (let p = k * plane; p < (k + 1) * plane; p++) c += mask[p]!;
    counts[k] = c;
  }
  let best: [number, number, number] = [0, -1, 0]; // start, end (inclusive), voxels
  for (let k = 0; k < nk; ) {
    if (!counts[k]) { k++; continue; }
    const s = k;
    let v = 0;
    while (k < nk && counts[k]) v += counts[k++]!;
    const e = k - 1;
    if (e - s > best[1] - best[0] || (e - s === best[1] - best[0] && v > best[2])) best = [s, e, v];
  }
  for (let k = 0; k < nk; k++) {
    if (k >= best[0] && k <= best[1]) continue;
    mask.fill(0, k * plane, (k + 1) * plane);
  }
}

/** Applies a rule in place; returns the voxel count after clean-up. */
export function cleanupMask(mask: Uint8Array, dims: [number, number, number], rule: CleanupRule): number {
  keepLargestComponents(mask, dims, rule.components);
  if (rule.fillHoles) fillHolesPerSlice(mask, dims);
  if (rule.continuity) keepLongestSliceRun(mask, dims);
  let n = 0;
  for (let p = 0; p < mask.length; p++) n += mask[p]!;
  return n;
}
