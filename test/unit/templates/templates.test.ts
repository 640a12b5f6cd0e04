import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase, type Db } from '../../../electron/engine/store/db.js';
import {
  addTemplateMember,
  deleteTemplateMember,
  ensureStructure,
  getTemplateMask,
  getTemplateSet,
  listTemplateSets,
} from '../../../electron/engine/store/templates.js';
import { DelineateError, NotFoundError, InputError } from '../../../electron/engine/errors.js';
import type { Vec3 } from '../../../electron/engine/volume/geometry.js';

function dbWithSeries(...uids: string[]): Db {
  const db = openDatabase(':memory:');
  db.prepare(`INSERT INTO patients (id, patient_id, name) VALUES (1, 'P1', 'Test^Patient')`).run();
  db.prepare(`INSERT INTO studies (study_uid, patient_ref) VALUES ('1.2.3', 1)`).run();
  for (const u of uids) db.prepare(`INSERT INTO series (series_uid, study_uid, modality) VALUES (?, '1.2.3', 'CT')`).run(u);
  return db;
}

// Canonical order: right(min x), left(max x), anterior(min y), posterior(max y), inferior(min z), superior(max z).
const SIX: Vec3[] = [
  [-10, 0, 0],
  [10, 1, 0],
  [0, -20, 2],
  [1, 20, 1],
  [0, 0, -30],
  [2, 2, 30],
];

test('a member round-trips, canonicalised, and replaces an earlier one for the same set/structure/series', () => {
  const db = dbWithSeries('1.2.3.4');
  const shuffled = [SIX[5]!, SIX[2]!, SIX[0]!, SIX[4]!, SIX[1]!, SIX[3]!];
  addTemplateMember(db, { set: 'thorax', structure: 'Heart', seriesUid: '1.2.3.4', points: shuffled, source: 'clicked' });
  let set = getTemplateSet(db, 'thorax');
  assert.equal(set.structures.length, 1);
  assert.equal(set.structures[0]!.color, '#ff0000', 'TG-263 catalogue colour');
  assert.deepEqual(set.structures[0]!.members[0]!.points, SIX);
  const moved = SIX.map((p) => [p[0] + 1, p[1], p[2]] as Vec3);
  addTemplateMember(db, { set: 'thorax', structure: 'Heart', seriesUid: '1.2.3.4', points: moved, source: 'labels', sourceRef: 'x.nii' });
  set = getTemplateSet(db, 'thorax');
  assert.equal(set.structures[0]!.members.length, 1);
  assert.deepEqual(set.structures[0]!.members[0]!.points, moved);
  assert.equal(set.structures[0]!.members[0]!.source, 'labels');
  assert.equal(listTemplateSets(db).length, 1);
});

test('validation: name length, six points, unknown series, unknown set', () => {
  const db = dbWithSeries('1.2.3.4');
  assert.throws(
    () => addTemplateMember(db, { set: 's', structure: 'A_Very_Long_Name_17', seriesUid: '1.2.3.4', points: SIX, source: 'clicked' }),
    (e: unknown) => e instanceof InputError && /16/.test(e.message),
  );
  assert.throws(
    () => addTemplateMember(db, { set: 's', structure: 'Heart', seriesUid: '1.2.3.4', points: SIX.slice(0, 5), source: 'clicked' }),
    (e: unknown) => e instanceof InputError && /six/.test(e.message),
  );
  assert.throws(
    () => addTemplateMember(db, { set: 's', structure: 'Heart', seriesUid: '9.9', points: SIX, source: 'clicked' }),
    (e: unknown) => e instanceof NotFoundError && e.message.includes('9.9'),
  );
  assert.throws(() => getTemplateSet(db, 'nope'), (e: unknown) => e instanceof DelineateError && e.message.includes("'nope'"));
});

test('delete a member, masks are stored compressed and returned intact, custom structure gets a colour', () => {
  const db = dbWithSeries('1.2.3.4', '1.2.3.5');
  const mask = new Uint8Array(1000);
  mask.fill(1, 100, 300);
  addTemplateMember(db, { set: 'hn', structure: 'MyOrgan', seriesUid: '1.2.3.4', points: SIX, source: 'labels', labelMask: mask });
  addTemplateMember(db, { set: 'hn', structure: 'MyOrgan', seriesUid: '1.2.3.5', points: SIX, source: 'clicked' });
  assert.deepEqual(getTemplateMask(db, { set: 'hn', structure: 'MyOrgan', seriesUid: '1.2.3.4' }), mask);
  assert.equal(getTemplateMask(db, { set: 'hn', structure: 'MyOrgan', seriesUid: '1.2.3.5' }), undefined);
  assert.match(getTemplateSet(db, 'hn').structures[0]!.color, /^#[0-9a-f]{6}$/);
  deleteTemplateMember(db, { set: 'hn', structure: 'MyOrgan', seriesUid: '1.2.3.4' });
  assert.equal(getTemplateSet(db, 'hn').structures[0]!.members.length, 1);
  assert.throws(() => deleteTemplateMember(db, { set: 'hn', structure: 'MyOrgan', seriesUid: '1.2.3.4' }), NotFoundError);
  assert.equal(ensureStructure(db, 'Heart', { color: '#00FF00' }).color, '#00ff00');
});
