import { describe, expect, it } from 'vitest';
import { confirmDeletesCommand } from './confirm-deletes';

describe('sync-node confirm-deletes', () => {
  it('posts to the status listener from --http, SYNC_HTTP or the default', async () => {
    const urls: string[] = [];
    const post = async (url: string) => {
      urls.push(url);
      return { status: 200, body: '{"confirmed":4}' };
    };
    expect(await confirmDeletesCommand(['--http', '127.0.0.1:9000'], {}, post)).toEqual({ exitCode: 0, text: 'confirmed 4 held deletes; they now propagate to the peers\n' });
    await confirmDeletesCommand([], { SYNC_HTTP: '0.0.0.0:8384' }, post);
    await confirmDeletesCommand([], {}, post);
    expect(urls).toEqual(['http://127.0.0.1:9000/confirm-deletes', 'http://127.0.0.1:8384/confirm-deletes', 'http://127.0.0.1:8384/confirm-deletes']);
  });

  it('exits 2 on a bad flag or --http off, 1 when the node cannot be reached', async () => {
    expect((await confirmDeletesCommand(['--bogus'], {})).exitCode).toBe(2);
    expect((await confirmDeletesCommand([], { SYNC_HTTP: 'off' })).exitCode).toBe(2);
    const unreachable = await confirmDeletesCommand([], {}, () => Promise.reject(new Error('ECONNREFUSED')));
    expect(unreachable).toEqual({ exitCode: 1, text: expect.stringContaining('cannot reach the node at 127.0.0.1:8384') });
  });
});
