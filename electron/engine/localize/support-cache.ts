/**
 * Where support features are cached: the database (migration 3) for the application and the CLI, or
 * memory when no database is at hand (cohort evaluations, tests).
 */
import type { Db } from '../store/db.js';
import { decodeSupport, encodeSupport, type SupportFeatures } from './support.js';

export interface SupportKey {
  templateSet: string;
  structure: string;
  modelHash: string;
  mode: 'wpl' | 'spl';
  /** Hash of the members and constants; a stored entry with another hash is stale. */
  templatesHash: string;
}

export interface SupportCache {
  get(k: SupportKey): SupportFeatures | undefined;
  put(k: SupportKey, s: SupportFeatures): void;
}

export class MemorySupportCache implements SupportCache {
  private readonly m = new Map<string, SupportFeatures>();
  private key(k: SupportKey): string {
    return JSON.stringify([k.templateSet, k.structure, k.modelHash, k.mode, k.templatesHash]);
  }
  get(k: SupportKey): SupportFeatures | undefined {
    return this.m.get(this.key(k));
  }
  put(k: SupportKey, s: SupportFeatures): void {
    this.m.set(this.key(k), s);
  }
}

export class DbSupportCache implements SupportCache {
  constructor(private readonly db: Db) {}

  private setId(name: string): number | undefined {
    const r = this.db.prepare('SELECT id FROM template_sets WHERE name = ?').get(name) as { id: number } | undefined;
    return r?.id;
  }

  get(k: SupportKey): SupportFeatures | undefined {
    const id = this.setId(k.templateSet);
    if (id === undefined) return undefined;
    const r = this.db
      .prepare('SELECT templates_hash, data FROM support_features WHERE set_id = ? AND structure = ? AND model_sha256 = ? AND mode = ?')
      .get(id, k.structure, k.modelHash, k.mode) as { templates_hash: string; data: Buffer } | undefined;
    if (!r || r.templates_hash !== k.templatesHash) return undefined;
    return decodeSupport(r.data);
  }

  put(k: SupportKey, s: SupportFeatures): void {
    const id = this.setId(k.templateSet);
    if (id === undefined) return; // templates that do not come from a stored set are not cached
    this.db
      .prepare(
        `INSERT INTO support_features (set_id, structure, model_sha256, mode, templates_hash, data) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (set_id, structure, model_sha256, mode) DO UPDATE SET templates_hash = excluded.templates_hash,
           data = excluded.data, created_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
      )
      .run(id, k.structure, k.modelHash, k.mode, k.templatesHash, encodeSupport(s));
  }
}
