import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDS, isValidDS } from '../../../electron/engine/rtstruct/ds.js';
import { exportNames } from '../../../electron/engine/rtstruct/names.js';
import { isValidUid, newUid } from '../../../electron/engine/rtstruct/uid.js';

test('decimal strings never exceed 16 characters and keep the value (Eclipse rejects longer ones)', () => {
  const values = [0, -0, 1 / 3, -1 / 3, 123.456789012345, -804.49999999999, -249.51171875, 1e-7, -123456.123456789, 99999999.123, -0.000001, 5e15];
  for (const v of values) {
    const s = formatDS(v);
    assert.ok(s.length <= 16 && isValidDS(s), `${v} -> '${s}'`);
    assert.ok(Math.abs(Number(s) - v) <= Math.max(1e-6, Math.abs(v) * 1e-9), `${v} -> '${s}'`);
  }
  assert.equal(formatDS(-0.0000001), '0');
  assert.equal(formatDS(-249.51171875), '-249.511719');
  assert.equal(formatDS(12), '12');
  assert.ok(!isValidDS('12345678901234567'));
  assert.ok(!isValidDS('1,5'));
  assert.throws(() => formatDS(NaN));
});

test('export names: TG-263 for known names, at most 16 characters, unique', () => {
  const { names, renamed } = exportNames(['liver', 'portal_vein_and_splenic_vein', 'adrenal_gland_right', 'Brainstem', 'some_really_long_left_structure', 'Some_Really_Long_Left_Thing', 'rib_left_6']);
  assert.deepEqual(names.slice(0, 4), ['Liver', 'V_PortalSplenic', 'Glnd_Adrenal_R', 'Brainstem']);
  for (const n of names) assert.ok(n.length <= 16, n);
  assert.equal(new Set(names.map((n) => n.toUpperCase())).size, names.length);
  assert.ok(names[4]!.endsWith('_L'), names[4]);
  assert.equal(names[6], 'rib_left_6', 'a valid name of 16 or fewer characters is kept');
  assert.ok(renamed.some((r) => r.from === 'portal_vein_and_splenic_vein' && r.to === 'V_PortalSplenic'));
  assert.deepEqual(exportNames(['Liver', 'LIVER']).names, ['Liver', 'Liver_2']);
});

test('UIDs are fresh 2.25 UUID-derived values within 64 characters (PS3.5 B.2)', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const u = newUid();
    assert.ok(isValidUid(u) && u.startsWith('2.25.'), u);
    seen.add(u);
  }
  assert.equal(seen.size, 1000);
  assert.ok(!isValidUid('1.2.03'));
  assert.ok(!isValidUid(''));
});
