import { describe, expect, it } from 'vitest';
import { parseConfig, parseHostPort } from './config';
import type { ConfigResult, Env, NodeConfig } from './config';
import { knownEnvNames, optionDocs } from './options';

const noFiles = (path: string): string => {
  throw new Error(`ENOENT: no such file or directory, open '${path}'`);
};
const files =
  (contents: Record<string, string>) =>
  (path: string): string => {
    const text = contents[path];
    if (text === undefined) return noFiles(path);
    return text;
  };
const secret = 'a-test-secret-of-32-characters!!';
const withSecret: Env = { SYNC_SECRET: secret };

function run(argv: string[], env: Env = withSecret, readFile = noFiles): { config: NodeConfig; warnings: string[] } {
  const result = parseConfig(argv, env, readFile);
  if (result.kind !== 'run') throw new Error(`expected a config, got ${JSON.stringify(result)}`);
  return result;
}

function failure(argv: string[], env: Env = withSecret, readFile = noFiles): string {
  const result: ConfigResult = parseConfig(argv, env, readFile);
  if (result.kind !== 'error') throw new Error(`expected an error, got ${JSON.stringify(result)}`);
  expect(result.exitCode).toBe(2);
  expect(result.message).toContain('see sync-node --help');
  return result.message;
}

describe('parseConfig defaults', () => {
  it('fills every documented default when only a secret is given', () => {
    const { config, warnings } = run([]);
    expect(config).toEqual({
      dir: './sync_dir',
      stateDir: 'sync_dir/.sync',
      listen: { host: '0.0.0.0', port: 7070 },
      peers: [],
      nodeId: undefined,
      secret,
      insecure: false,
      secretSource: 'SYNC_SECRET',
      http: { host: '127.0.0.1', port: 8384 },
      conflictPolicy: 'keep-both',
      pollIntervalMs: false,
      rescanMinutes: 60,
      logLevel: 'info',
      logFormat: 'text',
      keepVersionsDays: 7,
      tls: null,
    } satisfies NodeConfig);
    expect(warnings).toEqual([]);
  });
});

describe('parseConfig flags', () => {
  it('reads every value flag', () => {
    const { config } = run([
      '--dir', '/data',
      '--listen', '10.0.0.1:7000',
      '--peer', 'ws://a:7070',
      '--peer', 'wss://b.example.com',
      '--node-id', 'node_1-A',
      '--state-dir', '/state',
      '--http', '0.0.0.0:9000',
      '--conflict', 'newest-wins',
      '--poll', '250',
      '--log-level', 'debug',
      '--log-format', 'json',
    ]);
    expect(config).toMatchObject({
      dir: '/data',
      stateDir: '/state',
      listen: { host: '10.0.0.1', port: 7000 },
      peers: ['ws://a:7070', 'wss://b.example.com'],
      nodeId: 'node_1-A',
      http: { host: '0.0.0.0', port: 9000 },
      conflictPolicy: 'newest-wins',
      pollIntervalMs: 250,
      logLevel: 'debug',
      logFormat: 'json',
    });
  });

  it('accepts --flag=value spelling', () => {
    expect(run(['--dir=/x', '--listen=:7100']).config).toMatchObject({ dir: '/x', stateDir: '/x/.sync', listen: { host: '0.0.0.0', port: 7100 } });
  });

  it('derives the state dir from --dir', () => {
    expect(run(['--dir', '/srv/share']).config.stateDir).toBe('/srv/share/.sync');
  });

  it('turns --http off into no listener', () => {
    expect(run(['--http', 'off']).config.http).toBeNull();
    expect(run(['--http', 'OFF']).config.http).toBeNull();
  });

  it('treats a bare --poll as 1000 ms wherever it stands', () => {
    expect(run(['--poll']).config.pollIntervalMs).toBe(1000);
    expect(run(['--poll', '--dir', '/d']).config).toMatchObject({ pollIntervalMs: 1000, dir: '/d' });
    expect(run(['--dir', '/d', '--poll']).config.pollIntervalMs).toBe(1000);
    expect(run(['--poll', 'off']).config.pollIntervalMs).toBe(false);
    expect(run(['--poll=5000']).config.pollIntervalMs).toBe(5000);
  });

  it('lets the last of a repeated single-value flag win', () => {
    expect(run(['--dir', '/a', '--dir', '/b']).config.dir).toBe('/b');
  });

  it('drops duplicate peers but keeps their order', () => {
    expect(run(['--peer', 'ws://b:1', '--peer', 'ws://a:1', '--peer', 'ws://b:1']).config.peers).toEqual(['ws://b:1', 'ws://a:1']);
  });

  it('parses IPv6 and host names in addresses', () => {
    expect(run(['--listen', '[::]:7070']).config.listen).toEqual({ host: '::', port: 7070 });
    expect(run(['--listen', 'sync_node-1.local:80']).config.listen).toEqual({ host: 'sync_node-1.local', port: 80 });
    expect(run(['--http', '9999']).config.http).toEqual({ host: '127.0.0.1', port: 9999 });
    expect(run(['--listen', '7071']).config.listen).toEqual({ host: '0.0.0.0', port: 7071 });
  });
});

describe('parseConfig environment', () => {
  it('reads every environment variable', () => {
    const { config } = run([], {
      SYNC_DIR: '/env/dir',
      SYNC_LISTEN: '127.0.0.1:7001',
      SYNC_PEERS: 'ws://a:7070, ws://b:7070,,wss://c',
      SYNC_NODE_ID: 'envnode',
      SYNC_SECRET_FILE: '/run/secret',
      SYNC_STATE_DIR: '/env/state',
      SYNC_HTTP: 'off',
      SYNC_CONFLICT: 'newest-wins',
      SYNC_POLL: '2000',
      SYNC_LOG_LEVEL: 'WARN',
      SYNC_LOG_FORMAT: 'json',
    }, files({ '/run/secret': `${secret}\n` }));
    expect(config).toEqual({
      dir: '/env/dir',
      stateDir: '/env/state',
      listen: { host: '127.0.0.1', port: 7001 },
      peers: ['ws://a:7070', 'ws://b:7070', 'wss://c'],
      nodeId: 'envnode',
      secret,
      insecure: false,
      secretSource: 'SYNC_SECRET_FILE',
      http: null,
      conflictPolicy: 'newest-wins',
      pollIntervalMs: 2000,
      rescanMinutes: 60,
      logLevel: 'warn',
      logFormat: 'json',
      keepVersionsDays: 7,
      tls: null,
    } satisfies NodeConfig);
  });

  it.each([
    ['0', false],
    ['false', false],
    ['off', false],
    ['on', 1000],
    ['true', 1000],
    ['750', 750],
  ] as const)('reads SYNC_POLL=%s as %s', (value, expected) => {
    expect(run([], { ...withSecret, SYNC_POLL: value }).config.pollIntervalMs).toBe(expected);
  });

  it('treats empty variables as unset', () => {
    const { config } = run([], { ...withSecret, SYNC_DIR: '', SYNC_PEERS: '', SYNC_LISTEN: ' ', SYNC_INSECURE: '' });
    expect(config).toMatchObject({ dir: './sync_dir', peers: [], listen: { host: '0.0.0.0', port: 7070 }, insecure: false });
  });

  it('warns about unknown SYNC_ variables and suggests the likely one', () => {
    const { warnings } = run([], { ...withSecret, SYNC_PEER: 'ws://a:1', PATH: '/bin' });
    expect(warnings).toEqual(['ignoring unknown environment variable SYNC_PEER (did you mean SYNC_PEERS?)']);
  });
});

describe('parseConfig precedence', () => {
  it('lets every flag win over its variable', () => {
    const env: Env = {
      ...withSecret,
      SYNC_DIR: '/env',
      SYNC_LISTEN: '1.1.1.1:1',
      SYNC_PEERS: 'ws://env:1',
      SYNC_NODE_ID: 'env',
      SYNC_STATE_DIR: '/env-state',
      SYNC_HTTP: '2.2.2.2:2',
      SYNC_CONFLICT: 'newest-wins',
      SYNC_POLL: '3000',
      SYNC_LOG_LEVEL: 'error',
      SYNC_LOG_FORMAT: 'json',
    };
    const { config } = run(
      ['--dir', '/flag', '--listen', ':2', '--peer', 'ws://flag:1', '--node-id', 'flag', '--state-dir', '/flag-state', '--http', 'off', '--conflict', 'keep-both', '--poll', '100', '--log-level', 'debug', '--log-format', 'text'],
      env,
    );
    expect(config).toMatchObject({
      dir: '/flag',
      listen: { host: '0.0.0.0', port: 2 },
      peers: ['ws://flag:1'],
      nodeId: 'flag',
      stateDir: '/flag-state',
      http: null,
      conflictPolicy: 'keep-both',
      pollIntervalMs: 100,
      logLevel: 'debug',
      logFormat: 'text',
    });
  });

  it('takes the secret from a flag over any variable', () => {
    const env: Env = { SYNC_SECRET: 'env-secret-env-secret', SYNC_SECRET_FILE: '/nope', SYNC_INSECURE: '1' };
    expect(run(['--secret', secret], env).config).toMatchObject({ secret, secretSource: '--secret', insecure: false });
    expect(run(['--secret-file', '/s'], env, files({ '/s': secret })).config).toMatchObject({ secret, secretSource: '--secret-file' });
    expect(run(['--insecure'], env).config).toMatchObject({ secret: '', insecure: true, secretSource: '--insecure' });
  });

  it('uses SYNC_INSECURE=1 as insecure mode and ignores SYNC_INSECURE=0', () => {
    expect(run([], { SYNC_INSECURE: '1' }).config).toMatchObject({ secret: '', insecure: true });
    expect(run([], { SYNC_INSECURE: '0', SYNC_SECRET: secret }).config).toMatchObject({ secret, insecure: false });
  });
});

describe('parseConfig secrets', () => {
  it('refuses to start without a secret and says how to set one', () => {
    const message = failure([], {});
    for (const way of ['--secret', '--secret-file', 'SYNC_SECRET', 'SYNC_SECRET_FILE', '--insecure']) expect(message).toContain(way);
  });

  it('strips only the trailing newline of a secret file', () => {
    expect(run(['--secret-file', '/s'], {}, files({ '/s': ' spaced secret value \r\n' })).config.secret).toBe(' spaced secret value ');
  });

  it('names an unreadable or empty secret file', () => {
    expect(failure(['--secret-file', '/missing'], {})).toMatch(/cannot read the secret file \/missing \(--secret-file\).*ENOENT/);
    expect(failure([], { SYNC_SECRET_FILE: '/empty' }, files({ '/empty': '\n' }))).toContain('the secret file /empty (SYNC_SECRET_FILE) is empty');
  });

  it('rejects two ways of giving the secret at one level', () => {
    expect(failure(['--secret', secret, '--insecure'], {})).toContain('--secret and --insecure cannot be combined');
    expect(failure([], { SYNC_SECRET: secret, SYNC_SECRET_FILE: '/s' })).toContain('SYNC_SECRET and SYNC_SECRET_FILE cannot be combined');
  });

  it('rejects an empty --secret without echoing anything secret', () => {
    expect(failure(['--secret', ''], {})).toContain('invalid --secret: the secret is empty');
  });

  it('warns about short secrets, secrets in argv and insecure mode', () => {
    expect(run(['--secret', 'short'], {}).warnings).toEqual([
      expect.stringContaining('is short (5 characters)'),
      expect.stringContaining('visible to other local users'),
    ]);
    expect(run(['--insecure'], {}).warnings).toEqual([expect.stringContaining('running without a secret')]);
  });

  it('never puts the secret into a message', () => {
    const message = failure(['--secret', secret, '--listen', 'bad']);
    expect(message).not.toContain(secret);
  });
});

describe('parseConfig bad input exits 2 naming the flag', () => {
  it.each([
    [['--listen', 'nope'], 'invalid --listen "nope": expected HOST:PORT'],
    [['--listen', '1.2.3.4:70000'], 'port 70000 is out of range'],
    [['--listen', '::1:7070'], 'expected HOST:PORT'],
    [['--listen', '[nope]:7070'], 'is not an IPv6 address'],
    [['--listen', 'bad host:1'], 'is not a host name or IP address'],
    [['--http', 'sometimes'], 'invalid --http "sometimes": expected HOST:PORT'],
    [['--peer', 'http://a:7070'], 'invalid --peer "http://a:7070": expected ws:// or wss://'],
    [['--peer', 'nothing'], 'expected a URL like ws://host:7070'],
    [['--peer', 'ws://user:pw@a:1'], 'credentials do not belong in the URL'],
    [['--node-id', 'has space'], 'invalid --node-id "has space": expected 1 to 64 characters'],
    [['--node-id', 'x'.repeat(65)], 'expected 1 to 64 characters'],
    [['--conflict', 'mine-wins'], 'invalid --conflict "mine-wins": expected one of keep-both, newest-wins'],
    [['--poll', '10'], 'invalid --poll "10": expected an interval in ms from 50'],
    [['--log-level', 'loud'], 'invalid --log-level "loud": expected one of debug, info, warn, error'],
    [['--log-format', 'xml'], 'invalid --log-format "xml": expected one of text, json'],
    [['--dir='], 'invalid --dir "": expected a path'],
    [['--bogus'], 'unknown flag --bogus'],
    [['--peers', 'ws://a:1'], 'unknown flag --peers (did you mean --peer?)'],
    [['-x'], 'unknown flag -x'],
    [['stray'], "unexpected argument 'stray'"],
    [['--dir'], '--dir needs a value: --dir PATH'],
    [['--insecure=yes'], '--insecure is a switch and takes no value'],
  ])('%j → %s', (argv, expected) => {
    expect(failure(argv)).toContain(expected);
  });

  it.each([
    [{ SYNC_LISTEN: 'x' }, 'invalid SYNC_LISTEN "x"'],
    [{ SYNC_PEERS: 'ws://ok:1,ftp://bad' }, 'invalid SYNC_PEERS "ftp://bad"'],
    [{ SYNC_POLL: 'sometimes' }, 'invalid SYNC_POLL "sometimes"'],
    [{ SYNC_POLL: '1' }, 'invalid SYNC_POLL "1": expected an interval in ms from 50'],
    [{ SYNC_INSECURE: 'maybe' }, 'invalid SYNC_INSECURE "maybe": expected 1/true/yes/on or 0/false/no/off'],
    [{ SYNC_CONFLICT: 'x' }, 'invalid SYNC_CONFLICT "x"'],
  ])('%j names the variable', (env, expected) => {
    expect(failure([], { ...withSecret, ...env })).toContain(expected);
  });
});

describe('parseConfig help and version', () => {
  it('answers --help and -h before judging other flags', () => {
    const help = parseConfig(['--bogus', '--help'], {}, noFiles);
    expect(help.kind).toBe('help');
    expect(parseConfig(['-h'], {}, noFiles).kind).toBe('help');
    if (help.kind !== 'help') return;
    for (const doc of optionDocs) expect(help.text).toContain(doc.flag);
    for (const name of knownEnvNames) expect(help.text).toContain(name);
  });

  it('answers --version without needing a secret', () => {
    expect(parseConfig(['--version'], {}, noFiles)).toEqual({ kind: 'version' });
  });

  it('does not read flags after --', () => {
    expect(failure(['--', '--help'])).toContain("unexpected argument '--help'");
  });
});

describe('parseHostPort', () => {
  it('uses the default host for PORT and :PORT', () => {
    expect(parseHostPort('80', 'h')).toEqual({ host: 'h', port: 80 });
    expect(parseHostPort(':0', 'h')).toEqual({ host: 'h', port: 0 });
    expect(parseHostPort('[::1]:443', 'h')).toEqual({ host: '::1', port: 443 });
    expect(parseHostPort('', 'h')).toMatch(/^expected/);
  });
});

describe('parseConfig TLS', () => {
  const files: Record<string, string> = { '/c.pem': '-----BEGIN CERTIFICATE-----\nx\n', '/k.pem': '-----BEGIN PRIVATE KEY-----\ny\n', '/junk': 'hello' };
  const read = (path: string): string => {
    const text = files[path];
    if (text === undefined) throw new Error('ENOENT');
    return text;
  };
  const parse = (argv: string[], env: Record<string, string> = {}) => parseConfig(argv, { SYNC_SECRET: 'a-test-secret-of-32-characters!!', ...env }, read);

  it('reads the certificate, key and pins from flags or the environment', () => {
    const pin = 'AB:'.repeat(31) + 'AB';
    const fromFlags = parse(['--tls-cert', '/c.pem', '--tls-key', '/k.pem', '--tls-pin', pin]);
    expect(fromFlags.kind === 'run' && fromFlags.config.tls).toEqual({ cert: files['/c.pem'], key: files['/k.pem'], pins: ['AB'.repeat(32)] });
    const fromEnv = parse([], { SYNC_TLS_PINS: `${'cd'.repeat(32)},${pin}` });
    expect(fromEnv.kind === 'run' && fromEnv.config.tls).toEqual({ pins: ['CD'.repeat(32), 'AB'.repeat(32)] });
  });

  it.each([
    [['--tls-cert', '/c.pem'], /needs --tls-key/],
    [['--tls-key', '/k.pem'], /needs --tls-cert/],
    [['--tls-cert', '/missing', '--tls-key', '/k.pem'], /cannot read the certificate \/missing/],
    [['--tls-cert', '/junk', '--tls-key', '/k.pem'], /not a PEM certificate/],
    [['--tls-pin', 'abc'], /SHA-256 fingerprint/],
  ])('exits 2 for %j', (argv, message) => {
    const result = parse(argv);
    expect(result.kind).toBe('error');
    expect(result.kind === 'error' && result.message).toMatch(message);
  });
});

describe('parseConfig --keep-versions', () => {
  const parse = (argv: string[], env: Record<string, string> = {}) => parseConfig(argv, { SYNC_SECRET: 'a-test-secret-of-32-characters!!', ...env }, () => '');
  it('reads days from the flag or SYNC_KEEP_VERSIONS, default 7', () => {
    const days = (argv: string[], env?: Record<string, string>) => {
      const result = parse(argv, env);
      return result.kind === 'run' ? result.config.keepVersionsDays : null;
    };
    expect(days([])).toBe(7);
    expect(days(['--keep-versions', '30'])).toBe(30);
    expect(days([], { SYNC_KEEP_VERSIONS: '0.5' })).toBe(0.5);
    expect(days(['--keep-versions', '0'])).toBe(0);
  });
  it.each([['-1'], ['week'], ['4000']])('exits 2 for %s', (value) => {
    const result = parse(['--keep-versions', value]);
    expect(result.kind).toBe('error');
    expect(result.kind === 'error' && result.message).toMatch(/--keep-versions/);
  });
});

describe('parseConfig --rescan', () => {
  const parse = (argv: string[], env: Record<string, string> = {}) => parseConfig(argv, { SYNC_SECRET: 'a-test-secret-of-32-characters!!', ...env }, () => '');
  const minutes = (argv: string[], env?: Record<string, string>) => {
    const result = parse(argv, env);
    return result.kind === 'run' ? result.config.rescanMinutes : result.kind;
  };
  it('reads minutes or off from the flag or SYNC_RESCAN, default 60; the flag wins', () => {
    expect(minutes([])).toBe(60);
    expect(minutes(['--rescan', '5'])).toBe(5);
    expect(minutes(['--rescan=off'])).toBe(false);
    expect(minutes([], { SYNC_RESCAN: ' OFF ' })).toBe(false);
    expect(minutes([], { SYNC_RESCAN: '0' })).toBe(false);
    expect(minutes(['--rescan', '10080'], { SYNC_RESCAN: 'off' })).toBe(10080);
  });
  it.each([['-1'], ['hourly'], ['1.5'], ['10081']])('exits 2 for %s, naming the flag and what is expected', (value) => {
    const result = parse([`--rescan=${value}`]);
    expect(result.kind).toBe('error');
    expect(result.kind === 'error' && result.message).toMatch(/--rescan .*expected minutes from 1 to 10080, or off/);
    expect(result.kind === 'error' && result.exitCode).toBe(2);
  });
});
