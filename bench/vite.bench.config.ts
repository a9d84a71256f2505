import { defineConfig } from 'vite';

/** The transport bench page (bench/page), built apart from the app into dist-bench/. */
export default defineConfig({
  root: 'bench/page',
  build: { outDir: '../../dist-bench', emptyOutDir: true, target: 'es2022' },
});
