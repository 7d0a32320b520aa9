import { Resolver } from 'node:dns';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { LookupAddress, LookupOptions } from 'node:dns';

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
export type LookupFunction = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

/**
 * Resolves peer names with c-ares on the event loop, after /etc/hosts, instead of the
 * default getaddrinfo on libuv's thread pool. A getaddrinfo for a peer that has gone away can
 * block for tens of seconds, and a process cannot exit while one runs: a node stopped by SIGTERM
 * would hang until its supervisor kills it.
 */
export function createPeerLookup(timeoutMs = 2_000): LookupFunction {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  return (hostname, options, callback) => {
    void resolve(resolver, hostname, options.family === 6 ? 6 : options.family === 4 ? 4 : 0).then(
      (addresses) => {
        if (addresses.length === 0) return callback(notFound(hostname), '', 4);
        if (options.all) return callback(null, addresses);
        const first = addresses[0]!;
        callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 4),
    );
  };
}

async function resolve(resolver: Resolver, hostname: string, family: 0 | 4 | 6): Promise<LookupAddress[]> {
  const ipFamily = isIP(hostname);
  if (ipFamily) return [{ address: hostname, family: ipFamily }];
  const fromHosts = await hostsFile(hostname);
  const wanted = (a: LookupAddress): boolean => family === 0 || a.family === family;
  if (fromHosts.some(wanted)) return fromHosts.filter(wanted);
  const query = (type: 4 | 6): Promise<LookupAddress[]> =>
    new Promise((done) => {
      const method = type === 4 ? resolver.resolve4.bind(resolver) : resolver.resolve6.bind(resolver);
      method(hostname, (error, addresses) => done(error ? [] : addresses.map((address) => ({ address, family: type }))));
    });
  const [v4, v6] = await Promise.all([family === 6 ? [] : query(4), family === 4 ? [] : query(6)]);
  return [...v4, ...v6];
}

async function hostsFile(hostname: string): Promise<LookupAddress[]> {
  const text = await readFile('/etc/hosts', 'utf8').catch(() => '');
  const wanted = hostname.toLowerCase();
  const found: LookupAddress[] = [];
  for (const line of text.split('\n')) {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    const family = address ? isIP(address) : 0;
    if (family && names.some((name) => name.toLowerCase() === wanted)) found.push({ address: address!, family });
  }
  return found;
}

function notFound(hostname: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
  error.code = 'ENOTFOUND';
  return error;
}
