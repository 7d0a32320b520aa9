// Turns the runs into medians, ratios to each rival of the same invocation, and the target checks.
import { daemonSummary, fmt, formatTable, medianMetrics } from './lib/stats.mjs';

const systemsOrder = ['ours', 'rsync', 'rsync-fsync', 'syncthing', 'syncthing-1s'];

/** The figures a scenario is judged by; lower is better for every one of them. */
const keyMetrics = {
  latency: ['p50Ms', 'p99Ms', 'maxMs'],
  big: ['AB_s', 'ABC_s'],
  small: ['s', 'warmS'],
  delta: ['s', 'wireMiB'],
  rename: ['s', 'wireMiB'],
  scale: ['cold_s', 'warm_s', 'warmCaughtUp_s', 'warmCpuS', 'rssBytesPerFile', 'settledRssBytesPerFile', 'receiverRssBytesPerFile', 'receiverSettledRssBytesPerFile'],
  idle: ['cpuSPerMinMax'],
  delete: ['s'],
};

function bestSyncthing(medians, key) {
  const values = ['syncthing', 'syncthing-1s'].map((name) => medians[name]?.[key]).filter((v) => typeof v === 'number');
  return values.length ? Math.min(...values) : null;
}

const targets = [
  { scenario: 'latency', text: 'p50 ≤ 25 ms', check: (m) => [m.ours?.p50Ms, m.ours?.p50Ms <= 25] },
  { scenario: 'latency', text: 'p99 ≤ 100 ms', check: (m) => [m.ours?.p99Ms, m.ours?.p99Ms <= 100] },
  { scenario: 'big', text: 'A→B ≤ rsync --fsync', check: (m) => [`${fmt(m.ours?.AB_s)} s vs ${fmt(m['rsync-fsync']?.AB_s)} s`, m['rsync-fsync'] ? m.ours?.AB_s <= m['rsync-fsync'].AB_s : null] },
  {
    scenario: 'big',
    text: 'A→B ≥ 2.5× Syncthing speed',
    check: (m) => {
      const st = bestSyncthing(m, 'AB_s');
      return [st ? `${fmt(st / m.ours?.AB_s)}×` : null, st ? m.ours?.AB_s * 2.5 <= st : null];
    },
  },
  { scenario: 'big', text: 'A→B,C ≤ 1.3× A→B', check: (m) => [m.ours ? `${fmt(m.ours.ABC_s / m.ours.AB_s)}×` : null, m.ours?.ABC_s <= 1.3 * m.ours?.AB_s] },
  { scenario: 'big', text: 'peak RSS ≤ 100 MiB per daemon', check: (m) => [m.ours?.rssPeakMiB, m.ours?.rssPeakMiB <= 100] },
  { scenario: 'small', text: '≤ 2 s (10,000 files)', check: (m, quick) => [m.ours?.s, quick ? null : m.ours?.s <= 2] },
  { scenario: 'small', text: '≤ 2 s, second tree (daemons past start-up)', check: (m, quick) => [m.ours?.warmS, quick || m.ours?.warmS === undefined ? null : m.ours.warmS <= 2] },
  {
    scenario: 'small',
    text: '≥ 9× Syncthing',
    check: (m) => {
      const st = bestSyncthing(m, 's');
      return [st ? `${fmt(st / m.ours?.s)}×` : null, st ? m.ours?.s * 9 <= st : null];
    },
  },
  { scenario: 'delta', text: '≤ 1.5 s', check: (m) => [m.ours?.s, m.ours?.s <= 1.5] },
  { scenario: 'delta', text: '≤ 1.2 MiB on the wire', check: (m) => [m.ours?.wireMiB, m.ours?.wireMiB <= 1.2] },
  { scenario: 'rename', text: '≤ 1.5 s', check: (m) => [m.ours?.s, m.ours?.s <= 1.5] },
  { scenario: 'rename', text: '< 1 MiB on the wire', check: (m) => [m.ours?.wireMiB, m.ours?.wireMiB < 1] },
  { scenario: 'scale', text: 'warm restart ≤ 3 s (100,000 files)', check: (m, quick) => [m.ours?.warm_s, quick ? null : m.ours?.warm_s <= 3] },
  { scenario: 'scale', text: '≤ 1 KiB RSS per file', check: (m) => [m.ours?.rssBytesPerFile, m.ours?.rssBytesPerFile <= 1024] },
  { scenario: 'idle', text: '≤ 0.5 CPU s per minute per node', check: (m) => [m.ours?.cpuSPerMinMax, m.ours?.cpuSPerMinMax <= 0.5] },
];

export function report(results, { quick, runs }) {
  const data = {};
  for (const [scenario, bySystem] of Object.entries(results)) {
    data[scenario] = {};
    for (const [system, outcomes] of Object.entries(bySystem)) {
      const ok = outcomes.filter((outcome) => !outcome.error);
      data[scenario][system] = {
        runs: ok.length,
        errors: outcomes.filter((outcome) => outcome.error).map((outcome) => outcome.error),
        metrics: ok.length ? medianMetrics(ok) : null,
        ...(ok.length ? daemonSummary(ok) : {}),
      };
    }
  }

  const present = systemsOrder.filter((name) => Object.values(data).some((bySystem) => bySystem[name]));
  const rows = [];
  for (const [scenario, bySystem] of Object.entries(data)) {
    const metricRows = [...(keyMetrics[scenario] ?? []).map((key) => [key, (s) => s?.metrics?.[key]]), ['peak RSS MiB', (s) => s?.rssPeakMiB], ['CPU s, busiest daemon', (s) => s?.cpuSMaxDaemon]];
    for (const [label, pick] of metricRows) {
      const ours = pick(bySystem.ours);
      const row = [scenario, label];
      for (const name of present) {
        const value = pick(bySystem[name]);
        if (!bySystem[name]) row.push(null);
        else if (bySystem[name].runs === 0) row.push('failed');
        else if (name === 'ours' || typeof value !== 'number' || typeof ours !== 'number' || value === 0) row.push(fmt(value));
        else row.push(`${fmt(value)} (×${fmt(ours / value)})`);
      }
      rows.push(row);
    }
  }
  const header = ['scenario', 'metric', ...present];
  const table = formatTable(header, rows);

  const medians = Object.fromEntries(Object.entries(data).map(([scenario, bySystem]) => [scenario, Object.fromEntries(Object.entries(bySystem).map(([name, s]) => [name, s.metrics ? { ...s.metrics, rssPeakMiB: s.rssPeakMiB } : null]))]));
  const targetRows = targets
    .filter((target) => medians[target.scenario])
    .map((target) => {
      const m = medians[target.scenario];
      const [measured, met] = target.check(m, quick);
      return [target.scenario, target.text, fmt(measured), met === null || met === undefined || Number.isNaN(met) ? 'n/a' : met ? 'met' : 'MISSED'];
    });
  const targetTable = formatTable(['scenario', 'target', 'ours (median)', 'status'], targetRows);
  const errors = Object.entries(data).flatMap(([scenario, bySystem]) => Object.entries(bySystem).flatMap(([name, s]) => s.errors.map((e) => `${scenario}/${name}: ${e}`)));
  const legend = `Medians of ${runs} run(s)${quick ? ', --quick sizes' : ''}. Rival cells: value (×ours/rival; below 1 means ours is lower, i.e. better).`;
  // A run of scenarios the issue set no target for (delete) has no target table.
  const text = [legend, '', table, ...(targetRows.length ? ['', targetTable] : []), ...(errors.length ? ['', 'errors:', ...errors] : [])].join('\n');
  return { text, markdown: text, data: { medians: data, targets: targetRows} };
}
