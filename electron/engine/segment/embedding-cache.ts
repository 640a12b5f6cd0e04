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
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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
  readonly stats: EmbeddingCacheStats = { memoryHits: 0, diskHits: 0, misses: 0 };

  constructor(opts: EmbeddingCacheOptions = {}) {
    this.maxEntries = Math.max(0, opts.maxEntries ?? 48);
    this.dir = opts.dir;
  }

  private memKey(k: EmbeddingKey): string {
    return `${k.modelHash}|${k.recipe}|${k.seriesUid}|${k.slice}`;
  }

  /** File of one embedding: <dir>/sam-embeddings/<model>/<series+recipe>/<slice>.f32 */
  filePath(k: EmbeddingKey): string | undefined {
    if (!this.dir) return undefined;
    return join(this.dir, 'sam-embeddings', k.modelHash.slice(0, 16), digest(`${k.seriesUid}\n${k.recipe}`), `${k.slice}.f32`);
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
    const d = join(f, '..');
    mkdirSync(d, { recursive: true });
    // Write then rename, so a killed process never leaves a half-written embedding behind.
    const tmp = `${f}.${process.pid}.tmp`;
    writeFileSync(tmp, new Uint8Array(emb.buffer, emb.byteOffset, emb.byteLength));
    renameSync(tmp, f);
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
