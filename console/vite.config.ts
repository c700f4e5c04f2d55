import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The console builds to static files in `console/dist`. Asset URLs are relative (`./`), so the
 * same bundle works at `/` of the local runtime and at the root of the CloudFront distribution;
 * the app routes with the URL hash, so no server-side rewrite is needed.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    reportCompressedSize: true,
    chunkSizeWarningLimit: 800,
  },
});
