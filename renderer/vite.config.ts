/**
 * Vite config for the renderer (Svelte 5 + Cornerstone3D 5.14). The traps are in NOTES.md:
 * vtk.js needs the `events` package (installed); workers are ES modules; do not exclude @cornerstonejs/dicom-image-loader.
 * `base: './'` makes the build load from the custom protocol (delineate://app/) and the bridge alike.
 * In `npm run dev`, /api, /volume and /events go to the bridge (DELINEATE_BRIDGE, default :8765).
 */
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const bridge = process.env.DELINEATE_BRIDGE ?? 'http://127.0.0.1:8765';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [svelte()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 8000, sourcemap: false },
  worker: { format: 'es' },
  // The renderer never decodes DICOM (the engine sends voxels), so the codec pre-bundling NOTES.md
  // describes for dicom-image-loader is not needed here.
  server: {
    host: '127.0.0.1',
    port: 5173,
    strictPort: true,
    proxy: {
      '/api': { target: bridge, changeOrigin: true },
      '/volume': { target: bridge, changeOrigin: true },
      '/events': { target: bridge.replace(/^http/, 'ws'), ws: true, changeOrigin: true },
    },
  },
});
