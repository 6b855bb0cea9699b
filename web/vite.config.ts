import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The UI is served by Vigil itself from dist/web; in development `vite` proxies the API to a
// running Vigil (VIGIL_URL, default http://127.0.0.1:8080).
const target = process.env.VIGIL_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [react()],
  // The wire types shared with the server (src/contract); the same alias is in web/tsconfig.json.
  resolve: { alias: { '@contract': resolve(import.meta.dirname, '../src/contract') } },
  build: { outDir: '../dist/web', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1024 },
  server: { proxy: { '/api': { target, ws: true } } },
});
