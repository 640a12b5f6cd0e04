import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openDatabase, schemaVersion, latestVersion, migrate } from '../../../electron/engine/store/db.js';
import { tempDir } from '../../helpers/data.js';

test('a new database is migrated to the latest version with WAL, foreign keys and explicit synchronous', (t) => {
  const file = join(tempDir(t), 'db.sqlite');
  const db = openDatabase(file);
  assert.equal(schemaVersion(db), latestVersion());
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
  db.close();
  // A reopened WAL database would read NORMAL by default; FULL must be honoured when asked for.
  const again = openDatabase(file, { synchronous: 'FULL' });
  assert.equal(again.pragma('synchronous', { simple: true }), 2);
  again.close();
});

test('a database newer than the application is refused, not modified', (t) => {
  const file = join(tempDir(t), 'db.sqlite');
  const db = openDatabase(file);
  db.pragma(`user_version = ${latestVersion() + 1}`);
  db.close();
  assert.throws(() => openDatabase(file), /newer than this application/);
});

test('migration 1 -> 2 keeps archive rows and adds templates and results', (t) => {
  const file = join(tempDir(t), 'db.sqlite');
  const db = openDatabase(file, { targetVersion: 1 });
  assert.equal(schemaVersion(db), 1);
  db.prepare(`INSERT INTO patients (patient_id, name) VALUES ('P1', 'Doe^J')`).run();
  db.prepare(`INSERT INTO studies (study_uid, patient_ref) VALUES ('1.2.3', 1)`).run();
  db.prepare(`INSERT INTO series (series_uid, study_uid, modality) VALUES ('1.2.3.4', '1.2.3', 'CT')`).run();
  migrate(db, 2);
  assert.equal(schemaVersion(db), 2);
  assert.deepEqual(db.prepare('SELECT count(*) AS n FROM series').get(), { n: 1 });
  db.prepare(`INSERT INTO structures (name) VALUES ('Brainstem')`).run();
  db.prepare(`INSERT INTO template_sets (name) VALUES ('HN')`).run();
  db.prepare(
    `INSERT INTO template_members (set_id, structure, series_uid, points_json) VALUES (1, 'Brainstem', '1.2.3.4', '[]')`,
  ).run();
  // Foreign keys hold: a member for an unknown series is refused.
  assert.throws(() =>
    db.prepare(
      `INSERT INTO template_members (set_id, structure, series_uid, points_json) VALUES (1, 'Brainstem', 'nope', '[]')`,
    ).run(),
  );
  db.close();
});
