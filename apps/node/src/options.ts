/** One command-line option of sync-node, as documented in --help and the README. */
export interface OptionDoc {
  flag: string;
  /** Placeholder of the value; absent for switches. */
  value?: string;
  env?: string;
  defaultText: string;
  help: string;
}

export const defaultDir = './sync_dir';
export const defaultListen = { host: '0.0.0.0', port: 7070 } as const;
export const defaultHttp = { host: '127.0.0.1', port: 8384 } as const;
/** What a bare `--poll` (or SYNC_POLL=on) means. */
export const defaultPollMs = 1000;
/** Polling faster than this burns CPU for no gain; slower than the max is indistinguishable from broken. */
export const pollMsMin = 50;
export const pollMsMax = 3_600_000;
/** Minutes between full rescans, as Syncthing's default with a watcher; a week at most. */
export const defaultRescanMinutes = 60;
export const rescanMinutesMax = 10_080;
/** Shorter secrets are accepted with a warning: they can be guessed offline from one recorded handshake. */
export const secretCharsMin = 16;

export const optionDocs: readonly OptionDoc[] = [
  { flag: '--dir', value: 'PATH', env: 'SYNC_DIR', defaultText: defaultDir, help: 'folder to keep in sync (created if missing)' },
  { flag: '--listen', value: 'HOST:PORT', env: 'SYNC_LISTEN', defaultText: '0.0.0.0:7070', help: 'where peers connect to this node ([::]:PORT for IPv6)' },
  { flag: '--peer', value: 'URL', env: 'SYNC_PEERS', defaultText: 'none', help: 'ws:// or wss:// peer to keep connected; repeatable (env: comma-separated)' },
  { flag: '--node-id', value: 'ID', env: 'SYNC_NODE_ID', defaultText: 'generated once, persisted', help: 'this node\'s id: 1-64 of A-Z a-z 0-9 _ -' },
  { flag: '--secret', value: 'S', env: 'SYNC_SECRET', defaultText: 'none', help: 'cluster secret shared by all nodes (visible in ps: prefer a file)' },
  { flag: '--secret-file', value: 'FILE', env: 'SYNC_SECRET_FILE', defaultText: 'none', help: 'read the cluster secret from FILE (trailing newline ignored)' },
  { flag: '--insecure', env: 'SYNC_INSECURE=1', defaultText: 'off', help: 'run without a secret: only on a network you fully trust' },
  { flag: '--state-dir', value: 'PATH', env: 'SYNC_STATE_DIR', defaultText: '<dir>/.sync', help: 'index, node id and transfer temp files (never synced)' },
  { flag: '--http', value: 'HOST:PORT|off', env: 'SYNC_HTTP', defaultText: '127.0.0.1:8384', help: '/healthz, /status and /metrics listener, or off' },
  { flag: '--conflict', value: 'POLICY', env: 'SYNC_CONFLICT', defaultText: 'keep-both', help: 'keep-both (loser kept as a conflict copy) or newest-wins' },
  { flag: '--poll', value: '[MS]', env: 'SYNC_POLL', defaultText: 'off (filesystem events)', help: `poll the folder every MS ms (bare: ${defaultPollMs}); for mounts without events` },
  { flag: '--rescan', value: 'MIN|off', env: 'SYNC_RESCAN', defaultText: String(defaultRescanMinutes), help: 'walk the whole folder this often, for changes the watcher missed' },
  { flag: '--log-level', value: 'LEVEL', env: 'SYNC_LOG_LEVEL', defaultText: 'info', help: 'debug, info, warn or error' },
  { flag: '--log-format', value: 'FORMAT', env: 'SYNC_LOG_FORMAT', defaultText: 'text', help: 'text (one readable line per event) or json (JSON lines)' },
  { flag: '--keep-versions', value: 'DAYS', env: 'SYNC_KEEP_VERSIONS', defaultText: '7', help: 'keep files replaced or deleted by peers this long in <state-dir>/versions' },
  { flag: '--tls-cert', value: 'FILE', env: 'SYNC_TLS_CERT', defaultText: 'none (ws://)', help: 'PEM certificate: peers connect with wss:// (with --tls-key)' },
  { flag: '--tls-key', value: 'FILE', env: 'SYNC_TLS_KEY', defaultText: 'none', help: 'PEM private key of --tls-cert' },
  { flag: '--tls-pin', value: 'SHA256', env: 'SYNC_TLS_PINS', defaultText: 'none (any certificate)', help: 'fingerprint wss:// peers must present; repeatable (env: comma-separated)' },
  { flag: '--help', defaultText: '', help: 'print this help and exit' },
  { flag: '--version', defaultText: '', help: 'print the version and exit' },
];

/** Every environment variable sync-node reads; other SYNC_* variables are probably typos. */
export const knownEnvNames: readonly string[] = [
  'SYNC_DIR',
  'SYNC_LISTEN',
  'SYNC_PEERS',
  'SYNC_NODE_ID',
  'SYNC_SECRET',
  'SYNC_SECRET_FILE',
  'SYNC_INSECURE',
  'SYNC_STATE_DIR',
  'SYNC_HTTP',
  'SYNC_CONFLICT',
  'SYNC_POLL',
  'SYNC_RESCAN',
  'SYNC_LOG_LEVEL',
  'SYNC_LOG_FORMAT',
  'SYNC_KEEP_VERSIONS',
  'SYNC_TLS_CERT',
  'SYNC_TLS_KEY',
  'SYNC_TLS_PINS',
];
