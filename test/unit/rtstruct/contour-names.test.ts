import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { API_METHODS } from '../../../electron/api-methods.js';
import { contourNames } from '../../../electron/engine/rtstruct/contour-names.js';
import { requireData } from '../../helpers/data.js';

test('contour names of a label map come from the names file beside it (OpenKBP oar_names.json)', (t) => {
  const dir = requireData(t, 'openkbp');
  if (!dir) return;
  const r = contourNames(join(dir, 'pt_4_oar_labels.nii.gz'));
  assert.equal(r.kind, 'labels');
  assert.equal(r.namesFile, join(dir, 'oar_names.json'));
  const byValue = new Map(r.structures.map((s) => [s.value, s.name]));
  assert.equal(byValue.get(1), 'Brainstem');
  assert.equal(byValue.get(2), 'SpinalCord');
  assert.ok(r.structures.every((s) => s.value !== undefined && s.value > 0), 'only label values present, background left out');
});

test('contour names of an RTSTRUCT are its ROI names with their contour counts (4D-Lung)', (t) => {
  const dir = requireData(t, '4dlung');
  if (!dir) return;
  const r = contourNames(join(dir, 'rtstruct', '1-1.dcm'));
  assert.equal(r.kind, 'rtstruct');
  assert.deepEqual(
    r.structures.map((s) => [s.name, s.contours]).sort(),
    [['Carina_c40', 1], ['LN_c40', 21], ['Tumor_c40', 28], ['Vertebra_c40', 5]],
  );
  assert.throws(() => API_METHODS.deriveTemplatesFromRtstruct({ set: 's', seriesUid: '1' }), /rtstructPath/);
});
