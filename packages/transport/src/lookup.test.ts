import { describe, expect, it } from 'vitest';
import type { LookupAddress } from 'node:dns';
import { createPeerLookup } from './lookup';

const lookup = createPeerLookup(500);
const all = (hostname: string): Promise<LookupAddress[] | NodeJS.ErrnoException> =>
  new Promise((resolve) => lookup(hostname, { all: true }, (error, addresses) => resolve(error ?? (addresses as LookupAddress[]))));

describe('createPeerLookup', () => {
  it('answers IP literals and /etc/hosts names without a DNS server', async () => {
    expect(await all('127.0.0.1')).toEqual([{ address: '127.0.0.1', family: 4 }]);
    const local = await all('localhost');
    expect(Array.isArray(local) && local.some((a) => a.address === '127.0.0.1' || a.address === '::1')).toBe(true);
  });

  it('gives the single-address form when all is not set', async () => {
    const result = await new Promise<[string, number | undefined]>((resolve, reject) =>
      lookup('127.0.0.1', {}, (error, address, family) => (error ? reject(error) : resolve([address as string, family]))),
    );
    expect(result).toEqual(['127.0.0.1', 4]);
  });

  it('fails with ENOTFOUND for a name nobody knows, within its time-out', async () => {
    const began = Date.now();
    const result = await all('no-such-peer.invalid');
    expect(result).toMatchObject({ code: 'ENOTFOUND' });
    expect(Date.now() - began).toBeLessThan(10_000);
  });
});
