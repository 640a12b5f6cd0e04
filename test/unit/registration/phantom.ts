/**
 * Synthetic CT phantoms for registration tests: a body ellipsoid (soft tissue), two "bones" and an
 * "organ", defined analytically so that a query can be made as the template seen through a known
 * transform: query(x) = template(T(x)).
 */
import type { Vec3 } from '../../../electron/engine/volume/geometry.js';
import type { Volume } from '../../../electron/engine/volume/volume.js';
import { applyMat34, type Mat34 } from '../../../electron/engine/registration/transform.js';

interface Ellipsoid {
  c: Vec3;
  r: Vec3;
  hu: number;
}

export const BODY: Ellipsoid[] = [
  { c: [0, 0, 0], r: [70, 55, 80], hu: 40 },
  { c: [-25, 10, 10], r: [12, 12, 40], hu: 900 },
  { c: [20, -15, -20], r: [18, 9, 14], hu: 700 },
  { c: [5, 20, 30], r: [14, 10, 12], hu: -120 },
];
/** The organ annotated in templates. */
export const ORGAN: Ellipsoid = { c: [15, 15, -5], r: [14, 11, 16], hu: 120 };

function inside(e: Ellipsoid, p: Vec3): boolean {
  const x = (p[0] - e.c[0]) / e.r[0];
  const y = (p[1] - e.c[1]) / e.r[1];
  const z = (p[2] - e.c[2]) / e.r[2];
  return x * x + y * y + z * z <= 1;
}

/** The phantom on a grid centred at the origin, seen through `toTemplate` (identity: the template). */
export function phantom(dims: Vec3, spacing: Vec3, toTemplate?: Mat34): { ct: Volume; organ: Uint8Array } {
  const n = dims[0] * dims[1] * dims[2];
  const data = new Float32Array(n);
  const organ = new Uint8Array(n);
  const origin: Vec3 = [0, 1, 2].map((a) => (-(dims[a]! - 1) * spacing[a]!) / 2) as Vec3;
  let idx = 0;
  for (let k = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++, idx++) {
        let p: Vec3 = [origin[0] + i * spacing[0], origin[1] + j * spacing[1], origin[2] + k * spacing[2]];
        if (toTemplate) p = applyMat34(toTemplate, p);
        let hu = -1000;
        for (const e of BODY) if (inside(e, p)) hu = e.hu;
        if (inside(ORGAN, p)) {
          hu = ORGAN.hu;
          organ[idx] = 1;
        }
        data[idx] = hu;
      }
    }
  }
  return { ct: { dims: [...dims], spacing: [...spacing], origin, direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data }, organ };
}
