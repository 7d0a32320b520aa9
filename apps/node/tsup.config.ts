import { defineConfig } from 'tsup';

// One self-contained file: the image and `node dist/main.js` need no node_modules.
export default defineConfig({
  entry: { main: 'src/main.ts' },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  noExternal: [/.*/],
  // ws probes these optional native add-ons inside try/catch; leave them unresolved.
  external: ['bufferutil', 'utf-8-validate'],
  esbuildOptions(options) {
    options.conditions = ['@sync/source', 'import', 'node'];
    // The map names files and lines, which is what a stack trace needs; the sources are in the
    // repository. With them inlined, `--enable-source-maps` (as the image runs) held 7-9 MiB more
    // per daemon (an idle one on Node 24: 87 against 78 MiB).
    options.sourcesContent = false;
  },
  // No comments or indentation: V8 keeps a bundle's source text for the process's life, and a
  // single non-ASCII character in a comment made all of it two bytes a character (1.7 MB). An
  // idle daemon is 1-2.5 MiB smaller; identifiers are kept, so stack traces still name functions.
  minifyWhitespace: true,
  // Bundled CommonJS dependencies (ws) call require() for Node built-ins.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __syncCreateRequire } from 'node:module';\nconst require = __syncCreateRequire(import.meta.url);",
  },
  sourcemap: true,
  clean: true,
  dts: false,
});
