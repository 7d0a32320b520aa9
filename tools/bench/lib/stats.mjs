// Medians, percentiles and the plain-text table.

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function median(values) {
  const sorted = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median of every numeric metric over runs. */
export function medianMetrics(runs) {
  const keys = new Set(runs.flatMap((run) => Object.keys(run.metrics)));
  const result = {};
  for (const key of keys) result[key] = median(runs.map((run) => run.metrics[key]));
  return result;
}

/** Peak RSS (max) and CPU seconds (median of each run's max over daemons). */
export function daemonSummary(runs) {
  const flat = (daemons) => (Array.isArray(daemons) ? daemons : Object.values(daemons ?? {}).flat()).filter(Boolean);
  return {
    rssPeakMiB: Math.max(0, ...runs.flatMap((run) => flat(run.daemons).map((d) => d.rssPeakMiB))),
    cpuSMaxDaemon: median(runs.map((run) => Math.max(0, ...flat(run.daemons).map((d) => d.cpuS)))),
  };
}

export function formatTable(header, rows) {
  const cells = [header, ...rows].map((row) => row.map((cell) => (cell === null || cell === undefined ? '—' : String(cell))));
  const widths = header.map((_, c) => Math.max(...cells.map((row) => row[c].length)));
  const line = (row) => `| ${row.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  return [line(cells[0]), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...cells.slice(1).map(line)].join('\n');
}

export function fmt(value) {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number') return String(value);
  if (Math.abs(value) >= 100) return String(Math.round(value));
  if (Math.abs(value) >= 10) return value.toFixed(1);
  if (Math.abs(value) >= 1) return value.toFixed(2);
  return value.toFixed(3);
}
