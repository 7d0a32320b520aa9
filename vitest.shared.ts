import { fileURLToPath } from 'node:url';
import type { ViteUserConfig } from 'vitest/config';

// Tests resolve sibling packages to their TypeScript sources, so no build is needed first.
const source = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

const workspaceAliases = [
  { find: /^@sync\/protocol$/, replacement: source('./packages/protocol/src/index.ts') },
  { find: /^@sync\/protocol\/testing$/, replacement: source('./packages/protocol/src/testing/index.ts') },
  { find: /^@sync\/conflict$/, replacement: source('./packages/conflict/src/index.ts') },
  { find: /^@sync\/watcher$/, replacement: source('./packages/watcher/src/index.ts') },
  { find: /^@sync\/watcher\/testing$/, replacement: source('./packages/watcher/src/testing/index.ts') },
  { find: /^@sync\/transport$/, replacement: source('./packages/transport/src/index.ts') },
  { find: /^@sync\/transport\/testing$/, replacement: source('./packages/transport/src/testing/index.ts') },
  { find: /^@sync\/core$/, replacement: source('./packages/core/src/index.ts') },
  { find: /^@sync\/core\/testing$/, replacement: source('./packages/core/src/testing/index.ts') },
];

export const sharedTestConfig: ViteUserConfig = {
  resolve: { alias: workspaceAliases },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
};
