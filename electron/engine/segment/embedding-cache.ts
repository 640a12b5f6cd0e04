/**
 * SAM image embeddings, computed once per (model, series, slice) and shared by every structure and
 * every template set: a bounded in-memory LRU in front of an on-disk cache under defaultCacheDir()
 * (safe to delete). The reference re-encodes each slice for each organ (parity README M9); the
 * embeddings are identical, so sharing them is exact.
 *
 * The key includes a recipe string (window, resize order, mean/std, image size) because the
 * embedding depends on preprocessing as well as on the model.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { writeFileAtomic } from '../fs/atomic.js';
import { join } from 'node:path';

export interface EmbeddingKey {
  /** sha256 of the encoder ONNX file. */
  modelHash: string;
  seriesUid: string;
  /** Slice index k on the series grid. */
  slice: number;
  /** Preprocessing recipe (see recipeId in medsam.ts). */
  recipe: string;
}

export interface EmbeddingCacheOptions {
  /** Embeddings kept in memory (a SAM ViT-B embedding is 4 MiB). Default 48. */
  maxEntries?: number;
  /** Folder for the on-disk cache; omit to keep embeddings in memory only. */
  dir?: string;
  /** Disk budget in bytes (default 4 GiB): least recently used files go first. */
  maxDiskBytes?: number;
}

export interface EmbeddingCacheStats {
  memoryHits: number;
  diskHits: number;
  misses: number;
}

function digest(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 24);
}

export class EmbeddingCache {
  private readonly mem = new Map<string, Float32Array>();
  private readonly maxEntries: number;
  private readonly dir: string | undefined;
  private readonly maxDiskBytes: number;
  private writesSincePrune = 0;
  readonly stats: EmbeddingCacheStats = { memoryHits: 0, diskHits: 0, misses: 0 };

  constructor(opts: EmbeddingCacheOptions = {}) {
    this.maxEntries = Math.max(0, opts.maxEntries ?? 48);
    this.dir = opts.dir;
    this.maxDiskBytes = opts.maxDiskBytes ?? 4 * 1024 ** 3;
  }

  private memKey(k: EmbeddingKey): string {
    return `${k.modelHash}|${k.recipe}|${k.seriesUid}|${k.slice}`;
  }

  /** File of one embedding: <dir>/sam-embeddings/<model>/<series+recipe>/<slice>.f32 */
  filePath(k: EmbeddingKey): string | undefined {
    if (!this.dir) return undefined;
    return join(this.dir, 'sam-embeddings', k.modelHash.slice(0, 16), digest(`${k.seriesUid}\n${k.recipe}`), `${k.slice}.f32`);
  }

  /** Whether an embedding is cached (in memory or on disk), without reading it or counting a hit. */
  has(k: EmbeddingKey): boolean {
    if (this.mem.has(this.memKey(k))) return true;
    const f = this.filePath(k);
    return f !== undefined && existsSync(f);
  }

  /** The cached embedding, or undefined. `expectedLength` guards against a truncated file. */
  get(k: EmbeddingKey, expectedLength: number): Float32Array | undefined {
    const mk = this.memKey(k);
    const m = this.mem.get(mk);
    if (m) {
      this.mem.delete(mk);
      this.mem.set(mk, m); // most recently used goes last
      this.stats.memoryHits++;
      return m;
    }
    const f = this.filePath(k);
    if (f && existsSync(f)) {
      const buf = readFileSync(f);
      if (buf.byteLength === expectedLength * 4) {
        const now = new Date();
        utimesSync(f, now, now); // mtime marks recent use for pruning
        const arr = new Float32Array(expectedLength);
        new Uint8Array(arr.buffer).set(buf);
        this.remember(mk, arr);
        this.stats.diskHits++;
        return arr;
      }
    }
    this.stats.misses++;
    return undefined;
  }

  set(k: EmbeddingKey, emb: Float32Array): void {
    this.remember(this.memKey(k), emb);
    const f = this.filePath(k);
    if (!f) return;
    // Atomic (fs/atomic.ts): a killed process never leaves a half-written embedding behind.
    writeFileAtomic(f, new Uint8Array(emb.buffer, emb.byteOffset, emb.byteLength), { operation: 'cache SAM embedding' });
    if (++this.writesSincePrune >= 16) this.prune();
  }

  /** Deletes the least recently used embedding files until the disk cache fits its budget. */
  prune(): void {
    this.writesSincePrune = 0;
    if (!this.dir) return;
    const root = join(this.dir, 'sam-embeddings');
    if (!existsSync(root)) return;
    const files: { path: string; size: number; mtime: number }[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.f32')) {
          const st = statSync(p);
          files.push({ path: p, size: st.size, mtime: st.mtimeMs });
        }
      }
    };
    walk(root);
    let total = files.reduce((a, f) => a + f.size, 0);
    files.sort((a, b) => a.mtime - b.mtime);
    for (const f of files) {
      if (total <= this.maxDiskBytes) break;
      rmSync(f.path, { force: true });
      total -= f.size;
    }
  }

  get size(): number {
    return this.mem.size;
  }

  clearMemory(): void {
    this.mem.clear();
  }

  private remember(mk: string, emb: Float32Array): void {
    if (this.maxEntries === 0) return;
    this.mem.delete(mk);
    this.mem.set(mk, emb);
    while (this.mem.size > this.maxEntries) {
      const oldest = this.mem.keys().next().value;
      if (oldest === undefined) break;
      this.mem.delete(oldest);
    }
  }
}
