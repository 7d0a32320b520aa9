import packageJson from '../package.json' with { type: 'json' };

/** The package version, bundled into dist/main.js at build time. */
export const version: string = packageJson.version;
