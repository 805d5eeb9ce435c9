// `npm run dev`: Vite with hot reload on :5173, proxying the API (started separately with
// `npm start`, default http://localhost:3000; override with API_URL) so cookies stay same-origin.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const api = process.env.API_URL ?? 'http://localhost:3000';

export default defineConfig({
  plugins: [react()],
  server: {
    port: 5173,
    proxy: { '/api': { target: api, changeOrigin: false }, '/openapi.json': api },
  },
  build: {
    // No inline scripts or styles (the CSP forbids them): never inline assets as data: URLs
    // into scripts either, keep it all in hashed files.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
});
