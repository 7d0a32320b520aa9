import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The dependency direction of ../shared/DESIGN.md ("Allowed imports"), enforced at lint time.
const nodeBuiltins = ['node:*', 'fs', 'fs/*', 'path', 'crypto', 'os', 'net', 'http', 'https', 'stream', 'events', 'child_process'];
const workspace = (...names) => names.map((name) => [`@sync/${name}`, `@sync/${name}/*`]).flat();
const forbid = (message, group) => ({ group, message });

const boundaries = [
  {
    files: ['packages/protocol/src/**/*.ts', 'packages/conflict/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    patterns: [
      forbid('protocol and conflict are pure leaves: no workspace packages', workspace('protocol', 'conflict', 'watcher', 'transport', 'core', 'node')),
      forbid('protocol and conflict do no I/O: no Node built-ins', nodeBuiltins),
      forbid('only watcher imports chokidar, only transport imports ws', ['ws', 'chokidar']),
    ],
  },
  {
    files: ['packages/watcher/**/*.ts'],
    patterns: [
      forbid('watcher is a leaf: no workspace packages', workspace('protocol', 'conflict', 'transport', 'core', 'node')),
      forbid('only transport imports ws', ['ws']),
    ],
  },
  {
    files: ['packages/transport/**/*.ts'],
    patterns: [
      forbid('transport may import only @sync/protocol', workspace('conflict', 'watcher', 'core', 'node')),
      forbid('only watcher imports chokidar', ['chokidar']),
    ],
  },
  {
    files: ['packages/core/**/*.ts'],
    patterns: [
      forbid('nothing imports the app', workspace('node')),
      forbid('core talks to interfaces: only watcher imports chokidar, only transport imports ws', ['ws', 'chokidar']),
    ],
  },
  {
    files: ['apps/node/**/*.ts'],
    // Hostile-peer tests speak the wire protocol directly, as an attacker would.
    ignores: ['apps/node/test/**'],
    patterns: [
      forbid('the app imports only @sync/core', workspace('protocol', 'conflict', 'watcher', 'transport')),
      forbid('only watcher imports chokidar, only transport imports ws', ['ws', 'chokidar']),
    ],
  },
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'sync_dir/**', 'tmp/**', '.nx/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['packages/*/src/**/*.ts', 'apps/*/src/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Named exports only.' }],
    },
  },
  {
    files: ['tools/**/*.mjs', '.ci/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly' } },
  },
  ...boundaries.map(({ files, ignores, patterns }) => ({
    files,
    ...(ignores ? { ignores } : {}),
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] },
  })),
);
