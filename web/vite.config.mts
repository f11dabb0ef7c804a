import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// Two pages (the terminal at / and the operator view at /admin) built into web/dist, which the
// server reads at boot. Everything is bundled: the pages load nothing from outside the server.
const root = import.meta.dirname;

export default defineConfig({
  root,
  base: '/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: resolve(root, 'dist'),
    emptyOutDir: true,
    sourcemap: false,
    // No inline polyfill script: the Content-Security-Policy allows scripts from files only.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    rolldownOptions: {
      input: { index: resolve(root, 'index.html'), admin: resolve(root, 'admin.html') },
    },
  },
});
