/**
 * Outlier template members (store/template-outliers.ts, migration 6): a mislabelled contour ten
 * times the volume of its peers, or one far from the scan's other structures, is flagged with a
 * reason naming the measure, left out of the atlas backends unless a person keeps it; a structure
 * with fewer than 5 members is never judged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { migrate, openDatabase, schemaVersion } from '../../../electron/engine/store/db.js';
import { MIGRATIONS } from '../../../electron/engine/store/migrations/index.js';
import { m010TemplateOutliers } from '../../../electron/engine/store/migrations/010_template_outliers.js';
import { upsertSeries } from '../../../electron/engine/store/archive.js';
import { addTemplateMember } from '../../../electron/engine/store/templates.js';
import { excludedMembers, flagTemplateOutliers, keepTemplateMember, listTemplateOutliers, outlierReasons } from '../../../electron/engine/store/template-outliers.js';
import type { Vec3 } from '../../../electron/engine/volume/geometry.js';
import { tempDir } from '../../helpers/data.js';

const V = MIGRATIONS.indexOf(m010TemplateOutliers) + 1;

test('outlierReasons: a member ten times the median volume is flagged, the others not; fewer than 5 members are not judged', () => {
  const members = [40, 38, 45, 42, 36, 422].map((v, n) => ({ seriesUid: `s${n}`, volumeCc: v, extentMm: [15, 15, 300] as Vec3 }));
  const r = outlierReasons(members);
  assert.deepEqual([...r.keys()], ['s5']);
  assert.match(r.get('s5')![0]!, /volume 422\.0 cc \(median 41\.0 cc\)/);
  assert.equal(outlierReasons(members.slice(2)).size, 0);
  const moved = members.slice(0, 5).map((m, n) => ({ ...m, volumeCc: 40, offsetMm: [0, 0, n === 2 ? 80 : n] as Vec3 }));
  assert.match(outlierReasons(moved).get('s2')![0]!, /position S/);
});

function box(c: Vec3, r: Vec3): Vec3[] {
  return [0, 1, 2].flatMap((a) => [-1, 1].map((s) => c.map((v, b) => (b === a ? v + s * r[a]! : v)) as Vec3));
}

test(`migration ${V - 1} -> ${V}: members keep their rows; flags are stored, listed, kept and excluded`, (t) => {
  const db = openDatabase(join(tempDir(t), 'db.sqlite'), { targetVersion: V - 1 });
  t.after(() => db.close());
  db.prepare(`INSERT INTO patients (patient_id, name) VALUES ('P1', 'Doe^J')`).run();
  db.prepare(`INSERT INTO studies (study_uid, patient_ref) VALUES ('1.2', 1)`).run();
  const geometry = { dims: [10, 10, 10] as Vec3, spacing: [1, 1, 1] as Vec3, origin: [0, 0, 0] as Vec3, direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] as [number, number, number, number, number, number, number, number, number] };
  for (let n = 0; n < 6; n++) {
    upsertSeries(db, { seriesUid: `1.2.${n}`, studyUid: '1.2', modality: 'CT', frameOfReferenceUid: '', description: '', seriesNumber: '', seriesDate: '', source: 'dicom', geometry, warnings: [] });
    // SpinalCord: scan 5's is ten times too long; Brainstem gives every scan a second structure.
    addTemplateMember(db, { set: 'HN', structure: 'SpinalCord', seriesUid: `1.2.${n}`, points: box([0, 0, -100 + n], [5, 5, n === 5 ? 400 : 40 + n]), source: 'clicked' });
    addTemplateMember(db, { set: 'HN', structure: 'Brainstem', seriesUid: `1.2.${n}`, points: box([0, 0, 0], [10, 10, 14 + n / 2]), source: 'clicked' });
  }
  migrate(db, V);
  assert.equal(schemaVersion(db), V);
  assert.deepEqual(db.prepare('SELECT count(*) AS n FROM template_members').get(), { n: 12 });
  assert.deepEqual(listTemplateOutliers(db, 'HN'), [], 'nothing flagged before flags are computed');
  const flagged = flagTemplateOutliers(db, 'HN');
  assert.deepEqual(flagged.map((f) => [f.structure, f.seriesUid, f.kept]), [['SpinalCord', '1.2.5', false]]);
  assert.ok(flagged[0]!.reasons.some((r) => /extent S/.test(r)), flagged[0]!.reasons.join('; '));
  assert.deepEqual([...excludedMembers(db, 'HN')], ['SpinalCord\u00001.2.5']);
  keepTemplateMember(db, { set: 'HN', structure: 'SpinalCord', seriesUid: '1.2.5' }, true);
  assert.equal(excludedMembers(db, 'HN').size, 0);
  assert.equal(flagTemplateOutliers(db, 'HN')[0]!.kept, true, 'recomputing keeps a person\'s decision');
  keepTemplateMember(db, { set: 'HN', structure: 'SpinalCord', seriesUid: '1.2.5' }, false);
  assert.equal(excludedMembers(db, 'HN').size, 1);
  assert.throws(() => keepTemplateMember(db, { set: 'HN', structure: 'Larynx', seriesUid: '1.2.5' }, true), /no member Larynx/);
});
