import { optionDocs } from './options';

export const seeHelp = 'see sync-node --help';

/** The text of `sync-node --help`, generated from the option table so the two cannot drift. */
export function helpText(): string {
  const rows = optionDocs.map((doc) => ({
    left: doc.value ? `${doc.flag} ${doc.value}` : doc.flag,
    help: doc.help,
    more: [doc.env && `env ${doc.env}`, doc.defaultText && `default ${doc.defaultText}`].filter(Boolean).join(', '),
  }));
  const width = Math.max(...rows.map((row) => row.left.length)) + 2;
  const lines = rows.flatMap((row) => [`  ${row.left.padEnd(width)}${row.help}`, ...(row.more ? [`  ${' '.repeat(width)}${row.more}`] : [])]);
  return [
    'Usage: sync-node [options]',
    '       sync-node confirm-deletes [--http HOST:PORT]   publish deletes a running node held back at start-up',
    '',
    'Keeps a folder identical with every connected peer.',
    'Every flag has an environment variable; flags win.',
    '',
    'Options:',
    ...lines,
    '',
    'Examples:',
    '  sync-node --dir ./shared --secret-file ./secret --peer ws://10.0.0.2:7070',
    '  SYNC_SECRET=$(cat secret) SYNC_PEERS=ws://a:7070,ws://b:7070 sync-node --dir /data',
    '  sync-node --insecure --listen 127.0.0.1:7071 --http off',
    '',
    'Exit codes: 0 stopped cleanly, 1 runtime failure, 2 bad flags or configuration.',
    '',
  ].join('\n');
}
