// Child process of the import benchmark (test/bench/import.ts), so each scale has its own peak RSS.
// usage: node --import tsx _import-child.ts WARMUP_FOLDER FOLDER
// Imports WARMUP_FOLDER first (starts the decode workers, loads the codecs), then FOLDER into a fresh
// database and loads its volume; prints one JSON line {ms, cpuMs, slices, voxels, dtype, maxRssMb}.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importPaths } from '../../electron/engine/dicom/import.js';
import { openDatabase } from '../../electron/engine/store/db.js';
import { loadVolume } from '../../electron/engine/volume/load.js';

const [warmup, folder] = process.argv.slice(2);
if (!warmup || !folder) throw new Error('usage: _import-child.ts WARMUP_FOLDER FOLDER');
const dir = mkdtempSync(join(tmpdir(), 'delineate-bench-child-'));
try {
  const once = async (f: string, name: string): Promise<{ ms: number; cpuMs: number; slices: number; voxels: number; dtype: string }> => {
    // The archive is opened (and migrated) before the clock starts, as in import.ts.
    const db = openDatabase(join(dir, name));
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await importPaths(db, [f]);
    let voxels = 0;
    let slices = 0;
    let dtype = '';
    for (const s of r.series) {
      const v = await loadVolume(db, s.seriesUid);
      voxels += v.data.length;
      slices += v.dims[2];
      dtype = v.data.constructor.name;
    }
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    db.close();
    return { ms, cpuMs: (c.user + c.system) / 1000, slices, voxels, dtype };
  };
  await once(warmup, 'w.db');
  const r = await once(folder, 'm.db');
  process.stdout.write(`${JSON.stringify({ ...r, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
