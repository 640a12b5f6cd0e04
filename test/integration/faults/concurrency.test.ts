/**
 * Three processes on one database (trust issue, "Faults"): a service-like writer (audited decisions
 * and exports), the batch queue as `delineate run` drives it, and a DICOM-node-like importer write
 * at once. No "database is locked" may reach them and no acknowledged write may be lost (counted).
 * Then the same writers are SIGKILLed at random instants: after every round, everything they had
 * acknowledged is stored, integrity_check passes and the audit chain verifies.
 *
 * CI runs 5 s of concurrent writing and 3 kill rounds (9 kills); DELINEATE_CONCURRENCY_SECONDS=60
 * and DELINEATE_KILL_ROUNDS=17 (51 kills) give the full variant. DELINEATE_KILL_SEED replays.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { verifyAuditChain } from '../../../electron/engine/audit/chain.js';
import { writePhantomSeries } from '../../fixtures/phantom/phantom.js';
import { seeded } from '../jobs/kill-harness.js';
import { REPO_ROOT, tempDir } from '../../helpers/data.js';

const CHILD = join(REPO_ROOT, 'test', 'integration', 'faults', 'writer.child.ts');
const ROLES = ['service', 'run', 'node'] as const;

interface Exit {
  role: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  acks: string[];
  stderr: string;
}

function writer(role: string, db: string, seconds: number, outDir: string, inputs: string[], killAfterMs?: number): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, role, db, String(seconds), outDir, ...inputs], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      // A line cut by the kill is not an acknowledgement.
      resolve({ role, code, signal, acks: out.split('\n').slice(0, -1), stderr });
    });
  });
}

/** Every acknowledged write is stored; the file is whole and its audit chain intact. */
function checkAcknowledged(dbFile: string, acks: string[]): Record<string, number> {
  const db = openDatabase(dbFile, { check: 'quick' });
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    assert.deepEqual(db.pragma('foreign_key_check'), []);
    const chain = verifyAuditChain(db);
    assert.equal(chain.ok, true, JSON.stringify(chain.firstBroken));
    // One pass over each table (a query per acknowledgement would scan the audit table each time).
    const decidedSet = new Set((db.prepare(`SELECT actor || ' ' || json_extract(detail_json, '$.n') FROM audit WHERE action = 'approved'`).pluck().all() as string[]));
    const exportedSet = new Set(db.prepare(`SELECT json_extract(detail_json, '$.target') FROM audit WHERE action = 'exported'`).pluck().all() as string[]);
    const counted = (sql: string): Map<string, number> => new Map((db.prepare(sql).raw().all() as [string, number][]));
    const resultCounts = counted('SELECT series_uid, count(*) FROM results GROUP BY series_uid');
    const instanceCounts = counted('SELECT series_uid, count(*) FROM instances GROUP BY series_uid');
    const decided = { get: (actor: string, n: number): boolean => decidedSet.has(`${actor} ${n}`) };
    const exported = { get: (target: string): boolean => exportedSet.has(target) };
    const results = { get: (uid: string): number => resultCounts.get(uid) ?? 0 };
    const instances = { get: (uid: string): number => instanceCounts.get(uid) ?? 0 };
    const counts: Record<string, number> = { S: 0, E: 0, R: 0, N: 0 };
    for (const a of acks) {
      const [kind, x, y] = a.split(' ') as [string, string, string?];
      counts[kind] = (counts[kind] ?? 0) + 1;
      if (kind === 'S') assert.ok(decided.get(x, Number(y)), `lost: ${a}`);
      else if (kind === 'E') {
        assert.ok(exported.get(x), `lost audit entry: ${a}`);
        assert.equal((JSON.parse(readFileSync(x, 'utf8')) as { pad: string }).pad.length, 20_000, `export file whole: ${x}`);
      } else if (kind === 'R') assert.equal(results.get(x), 3, `lost results: ${a}`);
      else if (kind === 'N') assert.equal(instances.get(x), 4, `lost import: ${a}`);
      else assert.fail(`unexpected line from a writer: ${a}`);
    }
    return counts;
  } finally {
    db.close();
  }
}

test('three writers on one database: nothing locked, nothing lost; then SIGKILLs at random instants', { timeout: 600_000 }, async (t) => {
  const dir = tempDir(t);
  const dbFile = join(dir, 'archive', 'delineate.sqlite');
  const outDir = join(dir, 'exports');
  mkdirSync(outDir, { recursive: true });
  openDatabase(dbFile).close();
  const inputs = Array.from({ length: 4 }, (_, i) => {
    const d = join(dir, 'incoming', `s${i}`);
    writePhantomSeries(d, { seed: `node-${i}`, columns: 16, rows: 16, slices: 4 });
    return d;
  });

  const seconds = Number(process.env.DELINEATE_CONCURRENCY_SECONDS ?? 5);
  const together = await Promise.all(ROLES.map((r) => writer(r, dbFile, seconds, outDir, inputs)));
  for (const w of together) {
    assert.equal(w.code, 0, `${w.role} failed: ${w.stderr}`);
    assert.doesNotMatch(w.stderr, /locked|busy/i, w.role);
    assert.ok(w.acks.length > 0, `${w.role} wrote something`);
  }
  const counts = checkAcknowledged(dbFile, together.flatMap((w) => w.acks));
  const series = new Set(together.flatMap((w) => w.acks.filter((a) => a.startsWith('N ')))).size;
  t.diagnostic(`${seconds} s of three writers (shared machine): ${counts.S} decisions, ${counts.E} exports, ${counts.R} batch items, ${counts.N} imports (${series} distinct series) acknowledged, all stored`);

  const rounds = Number(process.env.DELINEATE_KILL_ROUNDS ?? 3);
  const seed = Number(process.env.DELINEATE_KILL_SEED ?? Date.now() % 1_000_000);
  t.diagnostic(`kill seed ${seed} (DELINEATE_KILL_SEED replays it)`);
  const rnd = seeded(seed);
  let kills = 0;
  const acks: string[] = together.flatMap((w) => w.acks);
  for (let round = 0; round < rounds; round++) {
    // Start-up (tsx, migrations check) takes about a second on a loaded machine: spread the kills
    // over start-up, steady writing and the middle of transactions alike.
    const exits = await Promise.all(ROLES.map((r) => writer(r, dbFile, 30, outDir, inputs, 300 + Math.floor(rnd() * 4000))));
    for (const w of exits) {
      if (w.signal === 'SIGKILL') kills++;
      else assert.equal(w.code, 0, `${w.role} failed: ${w.stderr}`);
      assert.doesNotMatch(w.stderr, /locked|busy/i, w.role);
      acks.push(...w.acks);
    }
    checkAcknowledged(dbFile, acks);
  }
  assert.equal(kills, rounds * ROLES.length);
  assert.ok(!existsSync(`${dbFile}-session`) || existsSync(`${dbFile}-wal`), 'no session marker without its -wal');
});
