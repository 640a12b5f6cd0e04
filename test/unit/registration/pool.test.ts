import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerPool } from '../../../electron/engine/registration/pool.js';
import { FUSE_JOBS, fuseJob } from '../../../electron/engine/segment/atlas/fuse-structure.js';
import { DEFAULT_ATLAS_OPTIONS } from '../../../electron/engine/registration/template-job.js';
import { sharedQuery } from '../../../electron/engine/localize/atlas/templates.js';
import { CancelledError } from '../../../electron/engine/errors.js';
import type { Volume } from '../../../electron/engine/volume/volume.js';

const base = new URL('../../../electron/engine/localize/atlas/atlas-pool.ts', import.meta.url).href;
const volume: Volume = { dims: [8, 8, 4], spacing: [2, 2, 3], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data: new Float32Array(256).fill(40) };
// Structures no template maps: each fusion returns an empty, 'absent' mask of the query's size.
const jobs = (n: number) => Array.from({ length: n }, (_, i) => fuseJob(`S${i}`, sharedQuery(volume), [], DEFAULT_ATLAS_OPTIONS));

test('the atlas pool keeps its workers between runs and starts new ones after a failed run', async () => {
  const pool = new WorkerPool(2, base, './atlas-worker');
  try {
    const first = await pool.run(jobs(3), FUSE_JOBS);
    assert.deepEqual(first.map((s) => [s.name, s.mask.length, s.flags[0]]), [['S0', 256, 'absent'], ['S1', 256, 'absent'], ['S2', 256, 'absent']]);
    const threads = pool.threadIds;
    assert.equal(threads.length, 2);
    const second = await pool.run(jobs(4), FUSE_JOBS);
    assert.equal(second.length, 4);
    assert.deepEqual(pool.threadIds, threads, 'the same threads served the second run');
    // A kind the worker does not serve fails the run with the worker's error, and the pool stops its threads.
    await assert.rejects(pool.run(jobs(2), { ...FUSE_JOBS, name: 'nope' }), /no job of kind nope/);
    assert.deepEqual(pool.threadIds, []);
    const third = await pool.run(jobs(1), FUSE_JOBS);
    assert.equal(third[0]!.name, 'S0');
    assert.equal(pool.threadIds.length, 1);
    assert.ok(!threads.includes(pool.threadIds[0]!), 'a new thread after the failure');
  } finally {
    await pool.terminate();
  }
});

test('runs on one pool take turns, and an aborted run rejects without holding up the next', async () => {
  const pool = new WorkerPool(1, base, './atlas-worker');
  try {
    const ac = new AbortController();
    ac.abort();
    const a = pool.run(jobs(2), FUSE_JOBS, { signal: ac.signal });
    const order: string[] = [];
    const b = pool.run(jobs(2), FUSE_JOBS, { onJobProgress: (n, _m, done) => { if (done) order.push(`b${n}`); } });
    const c = pool.run(jobs(1), FUSE_JOBS, { onJobProgress: (n, _m, done) => { if (done) order.push(`c${n}`); } });
    await assert.rejects(a, CancelledError);
    await Promise.all([b, c]);
    assert.deepEqual(order, ['b0', 'b1', 'c0']);
  } finally {
    await pool.terminate();
  }
});

test('an idle pool stops its workers, and the next run starts new ones', async () => {
  const pool = new WorkerPool(1, base, './atlas-worker', 200);
  try {
    await pool.run(jobs(1), FUSE_JOBS);
    const [first] = pool.threadIds;
    assert.ok(first !== undefined);
    // Within the idle time the next run finds the same thread.
    await pool.run(jobs(1), FUSE_JOBS);
    assert.deepEqual(pool.threadIds, [first]);
    const deadline = Date.now() + 10_000;
    while (pool.threadIds.length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(pool.threadIds, [], 'the idle worker was stopped');
    const again = await pool.run(jobs(2), FUSE_JOBS);
    assert.equal(again.length, 2);
    assert.equal(pool.threadIds.length, 1);
    assert.notEqual(pool.threadIds[0], first);
  } finally {
    await pool.terminate();
  }
});
