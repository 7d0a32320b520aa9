// Container health check: exits 0 when sync-node's /healthz answers 200, 1 otherwise.
// Plain node because the slim base image has no curl; reads SYNC_HTTP so a moved status
// listener is still found.
/* global process, console, fetch, AbortSignal */
const defaultHttp = '127.0.0.1:8384';
const timeoutMs = 4_000;

const setting = (process.env.SYNC_HTTP ?? '').trim() || defaultHttp;
if (setting.toLowerCase() === 'off') {
  // Nothing to ask: report healthy rather than restart-looping a node that runs fine without HTTP.
  console.log('SYNC_HTTP=off: no status listener, health not checked');
  process.exit(0);
}

const match = /^\[([^\]]*)\]:(\d+)$/.exec(setting) ?? /^([^:]*):(\d+)$/.exec(setting) ?? /^()(\d+)$/.exec(setting);
if (!match) {
  console.log(`cannot read SYNC_HTTP=${setting}`);
  process.exit(1);
}
const [, listenHost, port] = match;
// A wildcard listener is reached on loopback from inside the container.
const host = listenHost === '' || listenHost === '0.0.0.0' ? '127.0.0.1' : listenHost === '::' ? '::1' : listenHost;
const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/healthz`;

try {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const body = (await response.text()).trim();
  console.log(`${url}: ${response.status} ${body}`);
  process.exit(response.status === 200 ? 0 : 1);
} catch (error) {
  console.log(`${url}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
