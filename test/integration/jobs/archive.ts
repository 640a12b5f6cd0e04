/**
 * A small synthetic archive for batch tests and the batch benchmark: N phantom CT series (organs
 * shifted a little per patient), one template series with three structures given as six extreme
 * points plus their label masks (so both MedLAM-style and atlas backends have what they need), and
 * optionally one series whose pixel data is corrupted on disk after import (the file is truncated,
 * as a failing disk or an interrupted copy leaves it).
 */
import { truncateSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openJobsDb } from '../../unit/jobs/helpers.js';
import { importPaths } from '../../../electron/engine/dicom/import.js';
import { addTemplateMember } from '../../../electron/engine/store/templates.js';
import { getSeriesGeometry } from '../../../electron/engine/store/archive.js';
import { voxelToPatient, type Vec3 } from '../../../electron/engine/volume/geometry.js';
import { defaultOrgans, writePhantomSeries, type PhantomOrgan, type PhantomSeries } from '../../fixtures/phantom/phantom.js';

export const TEMPLATE_SET = 'Phantom';
export const STRUCTURES = ['Liver', 'SpinalCanal', 'Lung_L'];

export interface BatchArchive {
  dbFile: string;
  series: string[];
  /** The corrupted series, when asked for. */
  bad?: string;
  templateSeries: string;
}

const SIZE = { columns: 40, rows: 40, slices: 20, spacing: [5, 5, 6] as Vec3 };

function organsFor(k: number): PhantomOrgan[] {
  const fov: Vec3 = [SIZE.columns * SIZE.spacing[0], SIZE.rows * SIZE.spacing[1], SIZE.slices * SIZE.spacing[2]];
  const centre: Vec3 = [0, 0, -100 + ((SIZE.slices - 1) / 2) * SIZE.spacing[2]];
  // Each "patient" is shifted and scaled a little, so localization has something to find.
  const shift: Vec3 = [((k % 3) - 1) * 4, (((k + 1) % 3) - 1) * 3, ((k % 2) * 2 - 1) * 5];
  const scale = 1 + ((k % 4) - 1.5) * 0.04;
  return defaultOrgans(centre, fov).map((o) => ({
    ...o,
    centreLps: [o.centreLps[0] + shift[0], o.centreLps[1] + shift[1], o.centreLps[2] + shift[2]],
    radiiMm: [o.radiiMm[0] * scale, o.radiiMm[1] * scale, o.radiiMm[2] * scale],
  }));
}

/** Identifying attributes for the phantom of patient k (de-identification tests). */
export type PhantomIdentity = (k: number) => { patientName: string; patientId: string; extra?: Record<string, unknown> };

function phantom(dir: string, seed: string, k: number, identity?: PhantomIdentity): PhantomSeries {
  return writePhantomSeries(dir, { seed, columns: SIZE.columns, rows: SIZE.rows, slices: SIZE.slices, spacing: SIZE.spacing, organs: organsFor(k), ...(identity ? identity(k) : {}) });
}

/** Voxels of the series grid inside an organ's ellipsoid, and the six reference extreme points. */
function organTemplate(geometry: PhantomSeries['geometry'], o: PhantomOrgan): { mask: Uint8Array; points: Vec3[] } {
  const [nx, ny, nz] = geometry.dims;
  const mask = new Uint8Array(nx * ny * nz);
  const g = { ...geometry };
  const lo: Vec3 = [Infinity, Infinity, Infinity];
  const hi: Vec3 = [-Infinity, -Infinity, -Infinity];
  const loP: Vec3[] = [];
  const hiP: Vec3[] = [];
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const p = voxelToPatient(g, [i, j, k]);
        const d = [0, 1, 2].reduce((s, a) => s + ((p[a]! - o.centreLps[a]!) / o.radiiMm[a]!) ** 2, 0);
        if (d > 1) continue;
        mask[i + nx * (j + ny * k)] = 1;
        const v: Vec3 = [i, j, k];
        for (let a = 0; a < 3; a++) {
          if (v[a]! < lo[a]!) {
            lo[a] = v[a]!;
            loP[a] = p;
          }
          if (v[a]! > hi[a]!) {
            hi[a] = v[a]!;
            hiP[a] = p;
          }
        }
      }
    }
  }
  if (loP.length < 3) throw new Error(`organ ${o.name} has no voxel on the template grid`);
  return { mask, points: [loP[0]!, hiP[0]!, loP[1]!, hiP[1]!, loP[2]!, hiP[2]!] };
}

export async function makeBatchArchive(dir: string, opts: { count: number; corrupt?: boolean; identity?: PhantomIdentity }): Promise<BatchArchive> {
  const tpl = phantom(join(dir, 'template'), 'batch-template', 0, opts.identity);
  const queries: PhantomSeries[] = [];
  for (let k = 1; k <= opts.count; k++) queries.push(phantom(join(dir, `series${k}`), `batch-${k}`, k, opts.identity));
  const bad = opts.corrupt ? phantom(join(dir, 'corrupt'), 'batch-corrupt', opts.count + 1) : undefined;
  const dbFile = join(dir, 'archive.sqlite');
  const db = openJobsDb(dbFile);
  try {
    const imported = await importPaths(db, [join(dir, 'template'), ...queries.map((_, k) => join(dir, `series${k + 1}`)), ...(bad ? [join(dir, 'corrupt')] : [])]);
    if (imported.series.length !== opts.count + 1 + (bad ? 1 : 0)) {
      throw new Error(`phantom import gave ${imported.series.length} series: ${JSON.stringify(imported.skipped)}`);
    }
    const geometry = getSeriesGeometry(db, tpl.seriesUid);
    for (const name of STRUCTURES) {
      const organ = tpl.organs.find((o) => o.name === name)!;
      const { mask, points } = organTemplate({ dims: geometry.dims, spacing: geometry.spacing, origin: geometry.origin, direction: geometry.direction }, organ);
      addTemplateMember(db, { set: TEMPLATE_SET, structure: name, seriesUid: tpl.seriesUid, points, source: 'labels', sourceRef: 'phantom', labelMask: mask });
    }
  } finally {
    db.close();
  }
  if (bad) {
    // Corrupt one slice after import: the archive still lists it, its pixel data is cut short.
    const f = bad.files[Math.floor(bad.files.length / 2)]!.path;
    truncateSync(f, Math.floor(statSync(f).size * 0.6));
  }
  return {
    dbFile,
    // The corrupted series sits in the middle of the batch: the ones after it must still finish.
    series: bad ? [...queries.slice(0, 2), bad, ...queries.slice(2)].map((q) => q.seriesUid) : queries.map((q) => q.seriesUid),
    ...(bad ? { bad: bad.seriesUid } : {}),
    templateSeries: tpl.seriesUid,
  };
}
