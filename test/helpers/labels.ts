/**
 * Label maps on the synthetic phantom's grid, for tests that derive templates or export structures
 * from a known organ: the phantom's organs are analytic ellipsoids, so the expected extent is exact.
 */
import { writeNifti } from '../../electron/engine/nifti/nifti.js';
import { voxelToPatient } from '../../electron/engine/volume/geometry.js';
import type { PhantomSeries } from '../fixtures/phantom/phantom.js';

/** Label 1 on every voxel whose centre lies inside the phantom's `organ` ellipsoid (boundary included), 0 elsewhere. */
export function organMask(ph: PhantomSeries, organ = 'Liver'): Uint8Array {
  const g = ph.geometry;
  const o = ph.organs.find((x) => x.name === organ);
  if (!o) throw new Error(`the phantom has no organ ${organ}`);
  const data = new Uint8Array(g.dims[0] * g.dims[1] * g.dims[2]);
  for (let k = 0; k < g.dims[2]; k++)
    for (let j = 0; j < g.dims[1]; j++)
      for (let i = 0; i < g.dims[0]; i++) {
        const p = voxelToPatient(g, [i, j, k]);
        if ([0, 1, 2].reduce((acc, x) => acc + ((p[x]! - o.centreLps[x]!) / o.radiiMm[x]!) ** 2, 0) <= 1) data[i + g.dims[0] * (j + g.dims[1] * k)] = 1;
      }
  return data;
}

/** organMask written as a NIfTI label map on the series' grid at `path`. */
export function writeOrganLabels(ph: PhantomSeries, path: string, organ = 'Liver'): void {
  writeNifti(path, { ...ph.geometry, data: organMask(ph, organ) });
}
