// Syncthing (Debian's 1.19): one instance per node on loopback, no discovery, relays, NAT or
// usage reporting, static addresses, one folder shared by all; completion read from its REST API.
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ProcWatch, freePort, getJson, run, startDaemon, tcpBytes, waitFor } from '../lib/proc.mjs';
import { DaemonCluster } from '../lib/daemon-cluster.mjs';

export function syncthingSystem({ watcherDelayS }) {
  return {
    name: watcherDelayS === 10 ? 'syncthing' : `syncthing-${watcherDelayS}s`,
    live: true,
    async start(root, n, options = {}) {
      const nodes = [];
      for (let i = 0; i < n; i++) {
        const dir = options.dirs?.[i] ?? join(root, `n${i}`);
        const home = join(root, `st-home-${i}`);
        mkdirSync(join(dir, '.stfolder'), { recursive: true });
        const generated = await run('syncthing', ['generate', '--home', home, '--no-default-folder'], { env: { STNODEFAULTFOLDER: '1' } });
        const id = /Device ID: (\S+)/.exec(generated.stdout + generated.stderr)?.[1];
        if (!id) throw new Error(`syncthing generate printed no device id: ${generated.stdout}${generated.stderr}`);
        nodes.push({ dir, home, id, listen: await freePort(), gui: await freePort(), apiKey: randomBytes(16).toString('hex'), log: join(root, `st-${i}.log`) });
      }
      for (const node of nodes) writeFileSync(join(node.home, 'config.xml'), configXml(node, nodes, watcherDelayS));
      const cluster = new SyncthingCluster(nodes);
      await cluster.startAll();
      return cluster;
    },
  };
}

function configXml(self, nodes, watcherDelayS) {
  const deviceRefs = nodes.map((node) => `        <device id="${node.id}" introducedBy=""></device>`).join('\n');
  const devices = nodes
    .map(
      (node, i) => `    <device id="${node.id}" name="n${i}" compression="metadata" introducer="false" skipIntroductionRemovals="false" introducedBy="">
        <address>${node === self ? 'dynamic' : `tcp://127.0.0.1:${node.listen}`}</address>
        <paused>false</paused>
        <autoAcceptFolders>false</autoAcceptFolders>
    </device>`,
    )
    .join('\n');
  return `<configuration version="36">
    <folder id="bench" label="bench" path="${self.dir}" type="sendreceive" rescanIntervalS="86400" fsWatcherEnabled="true" fsWatcherDelayS="${watcherDelayS}" ignorePerms="false" autoNormalize="true">
        <filesystemType>basic</filesystemType>
${deviceRefs}
        <minDiskFree unit="%">0</minDiskFree>
        <markerName>.stfolder</markerName>
        <disableFsync>false</disableFsync>
    </folder>
${devices}
    <gui enabled="true" tls="false" debugging="false">
        <address>127.0.0.1:${self.gui}</address>
        <apikey>${self.apiKey}</apikey>
    </gui>
    <options>
        <listenAddress>tcp://127.0.0.1:${self.listen}</listenAddress>
        <globalAnnounceEnabled>false</globalAnnounceEnabled>
        <localAnnounceEnabled>false</localAnnounceEnabled>
        <relaysEnabled>false</relaysEnabled>
        <natEnabled>false</natEnabled>
        <urAccepted>-1</urAccepted>
        <urSeen>3</urSeen>
        <autoUpgradeIntervalH>0</autoUpgradeIntervalH>
        <startBrowser>false</startBrowser>
        <crashReportingEnabled>false</crashReportingEnabled>
        <setLowPriority>false</setLowPriority>
        <reconnectionIntervalS>1</reconnectionIntervalS>
    </options>
</configuration>
`;
}

class SyncthingCluster extends DaemonCluster {
  constructor(nodes) {
    super();
    this.nodes = nodes;
    this.dirs = nodes.map((node) => node.dir);
    this.live = true;
  }

  api(i, path) {
    const node = this.nodes[i];
    return getJson(`http://127.0.0.1:${node.gui}${path}`, { 'X-API-Key': node.apiKey });
  }

  async startNode(i) {
    const node = this.nodes[i];
    node.startedAt = performance.now();
    node.child = startDaemon('syncthing', ['serve', '--home', node.home, '--no-browser', '--no-restart', '--no-upgrade'], {
      logFile: node.log,
      env: { STNORESTART: '1', STNOUPGRADE: '1', STNODEFAULTFOLDER: '1' },
    });
    node.watch = new ProcWatch(node.child.pid, { tree: true });
  }

  async startAll(which = this.nodes.map((_, i) => i)) {
    for (const i of which) await this.startNode(i);
    await this.ready(which);
  }

  /** Started nodes are connected to every other running node and their folder is idle. */
  async ready(which = this.nodes.map((_, i) => i), timeoutMs = 600_000) {
    const running = this.nodes.filter((node) => node.child && node.child.exitCode === null);
    await Promise.all(
      which.map((i) =>
        waitFor(
          `syncthing n${i} ready`,
          async () => {
            if (this.nodes[i].child.exitCode !== null) throw new Error(`syncthing n${i} exited; see ${this.nodes[i].log}`);
            const connections = await this.api(i, '/rest/system/connections');
            const connected = running.filter((node) => node !== this.nodes[i] && connections.connections[node.id]?.connected).length;
            if (connected < running.length - 1) return false;
            const status = await this.api(i, '/rest/db/status?folder=bench');
            return status.state === 'idle';
          },
          { timeoutMs, everyMs: 100 },
        ),
      ),
    );
  }

  /** Seconds from the process start until the folder's first scan is done. */
  async timeToHealthy(i, timeoutMs = 600_000) {
    await waitFor(
      `syncthing n${i} scanned`,
      async () => {
        const status = await this.api(i, '/rest/db/status?folder=bench');
        return status.state === 'idle' && status.localFiles + status.localDirectories > 0;
      },
      { timeoutMs, everyMs: 20 },
    );
    return (performance.now() - this.nodes[i].startedAt) / 1000;
  }

  async sync() {}

  async fileCount(i) {
    const status = await this.api(i, '/rest/db/status?folder=bench');
    return status.needTotalItems === 0 ? status.localFiles : -1;
  }

  async idle(i) {
    const status = await this.api(i, '/rest/db/status?folder=bench');
    return status.state === 'idle' && status.needTotalItems === 0;
  }

  async wireBytes() {
    return tcpBytes(this.nodes.map((node) => node.listen));
  }
}
