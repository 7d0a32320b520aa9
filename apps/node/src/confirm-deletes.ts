import { parseArgs } from 'node:util';

export interface CommandOutput {
  exitCode: number;
  text: string;
}

/**
 * `sync-node confirm-deletes [--http HOST:PORT]`: asks the running node (through its status
 * listener, `SYNC_HTTP` or 127.0.0.1:8384) to publish the deletes it held back at start-up.
 */
export async function confirmDeletesCommand(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, post: (url: string) => Promise<{ status: number; body: string }> = httpPost): Promise<CommandOutput> {
  let http: string | undefined;
  try {
    http = parseArgs({ args: [...argv], options: { http: { type: 'string' } }, strict: true }).values.http;
  } catch (error) {
    return { exitCode: 2, text: `sync-node confirm-deletes: ${error instanceof Error ? error.message : String(error)} (usage: sync-node confirm-deletes [--http HOST:PORT])\n` };
  }
  const address = http ?? (env.SYNC_HTTP || '127.0.0.1:8384');
  if (address === 'off') return { exitCode: 2, text: 'sync-node confirm-deletes: the node runs with --http off; restart it with a status listener to confirm\n' };
  const hostPort = /^\d+$/.test(address) ? `127.0.0.1:${address}` : address.replace(/^0\.0\.0\.0:/, '127.0.0.1:');
  try {
    const reply = await post(`http://${hostPort}/confirm-deletes`);
    if (reply.status !== 200) return { exitCode: 1, text: `sync-node confirm-deletes: the node at ${hostPort} answered ${reply.status}: ${reply.body.trim()}\n` };
    const { confirmed } = JSON.parse(reply.body) as { confirmed: number };
    return { exitCode: 0, text: confirmed > 0 ? `confirmed ${confirmed} held deletes; they now propagate to the peers\n` : 'no deletes were held\n' };
  } catch (error) {
    return { exitCode: 1, text: `sync-node confirm-deletes: cannot reach the node at ${hostPort}: ${error instanceof Error ? error.message : String(error)}\n` };
  }
}

async function httpPost(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { method: 'POST' });
  return { status: response.status, body: await response.text() };
}
