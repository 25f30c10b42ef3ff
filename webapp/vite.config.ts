/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The API runs on the Go server; in `npm run dev` Vite forwards API paths to it.
const api = 'http://localhost:8080';
const apiPaths = ['/auth', '/points', '/campaigns', '/products', '/users', '/purchase', '/orders',
  '/analytics', '/images', '/settings', '/healthz', '/tiers'];

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  server: { proxy: Object.fromEntries(apiPaths.map((p) => [p, api])) },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
  },
});
