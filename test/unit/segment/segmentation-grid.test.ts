import { test } from 'node:test';
import assert from 'node:assert/strict';
import { membershipOnGrid, segmentationGrid } from '../../../electron/engine/segment/atlas/segmentation-grid.js';
import { voxelToPatientMatrix } from '../../../electron/engine/registration/image.js';
import { applyMat34 } from '../../../electron/engine/registration/transform.js';
import type { Volume } from '../../../electron/engine/volume/volume.js';

// A fine query (1 x 1 x 2.5 mm) with the direction of a feet-first scan, so index and LPS axes differ.
const fine: Volume = { dims: [60, 50, 12], spacing: [1, 1, 2.5], origin: [-30, 20, 100], direction: [1, 0, 0, 0, -1, 0, 0, 0, -1], data: new Float32Array(60 * 50 * 12) };

test('a query finer than the segmentation spacing gets a coarser grid over the same field of view; a coarse one keeps its own', () => {
  const grid = segmentationGrid(fine, 2)!;
  assert.deepEqual(grid.dims, [30, 25, 12]);
  assert.deepEqual(grid.spacing, [2, 2, 2.5]);
  assert.deepEqual(grid.direction, fine.direction);
  assert.equal(segmentationGrid(fine, 2), grid, 'one grid per volume, shared by localize and segment');
  assert.equal(segmentationGrid({ ...fine, spacing: [3.9, 3.9, 2.5] }, 2), undefined);
  assert.equal(segmentationGrid(fine, 0), undefined);
});

test('a membership carried to the fine grid is thresholded where the interpolated value crosses, not on coarse blocks', () => {
  const coarse = segmentationGrid(fine, 2)!;
  // Membership linear in LPS x, 0.5 at x = 0.5 mm (between two fine voxel centres): trilinear
  // interpolation is exact for it, so the fine mask must be exactly the fine voxels at x >= 0.5 mm,
  // not a 2 mm step.
  const v2p = voxelToPatientMatrix(coarse);
  const m = new Float32Array(coarse.data.length);
  let q = 0;
  for (let k = 0; k < coarse.dims[2]; k++) for (let j = 0; j < coarse.dims[1]; j++) for (let i = 0; i < coarse.dims[0]; i++, q++) m[q] = (applyMat34(v2p, [i, j, k])[0] + 29.5) / 60;
  const mask = membershipOnGrid(m, coarse, fine, 0.5);
  const f2p = voxelToPatientMatrix(fine);
  let wrong = 0;
  let inside = 0;
  q = 0;
  for (let k = 0; k < fine.dims[2]; k++) {
    for (let j = 0; j < fine.dims[1]; j++) {
      for (let i = 0; i < fine.dims[0]; i++, q++) {
        const x = applyMat34(f2p, [i, j, k])[0];
        // Beyond the outermost coarse centres (half a coarse voxel from the edge) the edge value holds.
        const expected = Math.min(Math.max(x, -29), 29) >= 0.5 ? 1 : 0;
        if (mask[q] !== expected) wrong++;
        inside += mask[q]!;
      }
    }
  }
  assert.equal(wrong, 0);
  assert.equal(inside, 29 * 50 * 12, 'the fine voxels from x = 1 mm on');
  assert.equal(membershipOnGrid(new Float32Array(m.length), coarse, fine, 0.5).reduce((a, b) => a + b, 0), 0, 'nothing above the threshold: an empty mask');
});
