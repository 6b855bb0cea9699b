import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The UI is served by Vigil itself from dist/web; in development `vite` proxies the API to a
// running Vigil (VIGIL_URL, default http://127.0.0.1:8080).
const target = process.env.VIGIL_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [react()],
  build: { outDir: '../dist/web', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1024 },
  server: { proxy: { '/api': { target, ws: true } } },
});
