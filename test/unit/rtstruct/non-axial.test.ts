/**
 * Non-axial series (sagittal, oblique direction cosines): contours lie in each slice's own plane,
 * pre-flight matches them to their slice along the slice normal, and reading them back restores the mask.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeRtstruct } from '../../../electron/engine/rtstruct/write.js';
import { readRtstruct, rasterizeStructures } from '../../../electron/engine/rtstruct/read.js';
import type { Geometry, Mat3 } from '../../../electron/engine/volume/geometry.js';
import { tempDir } from '../../helpers/data.js';
import { checkWrittenRtstruct, handSeries } from './fixtures.js';

const c = Math.cos(0.4);
const s = Math.sin(0.4);
const cases: Array<[string, Mat3]> = [
  ['sagittal', [0, 0, 1, 1, 0, 0, 0, -1, 0]],
  ['coronal', [1, 0, 0, 0, 0, 1, 0, -1, 0]],
  ['oblique', [c, -s, 0, s * 0.6, c * 0.6, -0.8, s * 0.8, c * 0.8, 0.6]],
];

for (const [what, direction] of cases) {
  test(`${what} series: written, checked and read back to the same mask`, (t) => {
    const g: Geometry = { dims: [20, 18, 5], spacing: [0.8, 0.8, 2], origin: [-30.25, 12.5, -100], direction };
    const mask = new Uint8Array(20 * 18 * 5);
    for (let k = 1; k < 4; k++) for (let j = 0; j < 18; j++) for (let i = 0; i < 20; i++) {
      const r = Math.hypot(i - 9, j - 8);
      mask[i + 20 * (j + 18 * k)] = r < 6 && r > 2 ? 1 : 0;
    }
    const series = handSeries(g);
    const out = join(tempDir(t), 'rs.dcm');
    const w = writeRtstruct(out, series, [{ name: 'Ring', color: '#00ff00', mask }]);
    assert.equal(w.structures[0]!.contours, 6);
    const back = rasterizeStructures(readRtstruct(out), g)[0]!;
    assert.deepEqual(back.skipped, []);
    assert.deepEqual(back.mask, mask);
    checkWrittenRtstruct(t, out);
  });
}

test('a series whose slices do not lie on its grid (gantry tilt, interpolated gaps) is refused by pre-flight', (t) => {
  const g: Geometry = { dims: [8, 8, 3], spacing: [1, 1, 2], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
  const series = handSeries(g);
  series.instances[1]!.position = [0, 0, 2.7]; // the real slice is 0.7 mm off the grid's slice 1
  const mask = new Uint8Array(8 * 8 * 3);
  mask[3 + 8 * (3 + 8 * 1)] = 1;
  assert.throws(() => writeRtstruct(join(tempDir(t), 'rs.dcm'), series, [{ name: 'Dot', color: '#ffffff', mask }]), /do not all lie on one CT slice/);
});
