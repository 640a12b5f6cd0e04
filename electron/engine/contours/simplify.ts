/**
 * Ring clean-up and simplification in a plane (2D, mm or voxel units): collinear vertices removed,
 * Douglas-Peucker on a closed ring (Douglas & Peucker 1973) anchored at two far-apart vertices so that
 * the result stays closed and keeps at least a triangle.
 */

export type Pt = [number, number];

/** Twice the signed area (shoelace); positive when counter-clockwise in a right-handed frame. */
export function signedArea2(ring: Pt[]): number {
  let s = 0;
  for (let i = 0; i < ring.length; i++) {
    const a = ring[i]!;
    const b = ring[(i + 1) % ring.length]!;
    s += a[0] * b[1] - b[0] * a[1];
  }
  return s;
}

/** Drops vertices that lie on the straight line through their neighbours (and repeated vertices). */
export function removeCollinear(ring: Pt[], eps = 1e-9): Pt[] {
  let pts = ring.slice();
  let changed = true;
  while (changed && pts.length >= 3) {
    changed = false;
    const out: Pt[] = [];
    for (let i = 0; i < pts.length; i++) {
      const p = pts[(i - 1 + pts.length) % pts.length]!;
      const c = pts[i]!;
      const n = pts[(i + 1) % pts.length]!;
      const cross = (c[0] - p[0]) * (n[1] - c[1]) - (c[1] - p[1]) * (n[0] - c[0]);
      const dup = Math.abs(c[0] - p[0]) < eps && Math.abs(c[1] - p[1]) < eps;
      if (dup || Math.abs(cross) < eps) {
        changed = true;
        continue;
      }
      out.push(c);
    }
    pts = out;
  }
  return pts;
}

function segDist(p: Pt, a: Pt, b: Pt): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const l2 = dx * dx + dy * dy;
  let t = l2 > 0 ? ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l2 : 0;
  t = Math.max(0, Math.min(1, t));
  return Math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy);
}

function dpOpen(pts: Pt[], tol: number): Pt[] {
  // Iterative Douglas-Peucker on an open chain; keeps both ends.
  const keep = new Uint8Array(pts.length);
  keep[0] = 1;
  keep[pts.length - 1] = 1;
  const stack: Array<[number, number]> = [[0, pts.length - 1]];
  while (stack.length > 0) {
    const [s, e] = stack.pop()!;
    let maxD = -1;
    let idx = -1;
    for (let i = s + 1; i < e; i++) {
      const d = segDist(pts[i]!, pts[s]!, pts[e]!);
      if (d > maxD) {
        maxD = d;
        idx = i;
      }
    }
    if (idx >= 0 && maxD > tol) {
      keep[idx] = 1;
      stack.push([s, idx], [idx, e]);
    }
  }
  return pts.filter((_, i) => keep[i] === 1);
}

/** Douglas-Peucker on a closed ring; returns the input when simplification would leave < 3 vertices. */
export function simplifyRing(ring: Pt[], tol: number): Pt[] {
  if (tol <= 0 || ring.length <= 3) return ring;
  // Anchor at vertex 0 and the vertex farthest from it: two chains, each simplified with its ends kept.
  let far = 0;
  let farD = -1;
  for (let i = 1; i < ring.length; i++) {
    const d = Math.hypot(ring[i]![0] - ring[0]![0], ring[i]![1] - ring[0]![1]);
    if (d > farD) {
      farD = d;
      far = i;
    }
  }
  const a = dpOpen(ring.slice(0, far + 1), tol);
  const b = dpOpen([...ring.slice(far), ring[0]!], tol);
  const out = [...a, ...b.slice(1, -1)];
  return out.length >= 3 && Math.abs(signedArea2(out)) > 1e-12 ? out : ring;
}
