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
  },
  // Bundled CommonJS dependencies (ws) call require() for Node built-ins.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __syncCreateRequire } from 'node:module';\nconst require = __syncCreateRequire(import.meta.url);",
  },
  sourcemap: true,
  clean: true,
  dts: false,
});
