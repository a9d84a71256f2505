import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

/**
 * Two pages: the portal (index.html) and the lending widget that partner sites frame (widget.html). Their
 * SharedWorker node and sandbox workers are bundled as ES module workers.
 */
export default defineConfig({
  plugins: [svelte()],
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    rolldownOptions: {
      input: { main: 'index.html', widget: 'widget.html' },
    },
  },
});
