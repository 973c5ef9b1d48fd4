// Numbers for people: thousands separators, units that fit the size, countdowns in words.

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const dec = (digits: number) =>
  new Intl.NumberFormat('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });

/** 1234 → "1,234"; 1234567 → "1.23 M"; null → "—". */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a >= 1e9) return `${dec(2).format(v / 1e9)} B`;
  if (a >= 1e6) return `${dec(2).format(v / 1e6)} M`;
  if (a >= 100 || Number.isInteger(v)) return int.format(v);
  // Small values keep a third digit, so axis ticks like 0.045 and 0.05 stay apart.
  return dec(a >= 10 ? 1 : a >= 0.1 ? 2 : 3).format(v);
}

/** Requests per second: 0.5 → "0.5/s", 12345 → "12.3k/s". */
export function formatRate(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (Math.abs(v) >= 10_000) return `${dec(1).format(v / 1000)}k/s`;
  return `${formatNumber(v)}/s`;
}

/** Milliseconds: 0.85 → "850 µs", 12.3 → "12.3 ms", 1500 → "1.5 s". */
export function formatMs(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (v === 0) return '0 ms';
  if (v < 1) return `${int.format(v * 1000)} µs`;
  if (v < 1000) return `${dec(v < 10 ? 2 : 1).format(v)} ms`;
  return `${dec(2).format(v / 1000)} s`;
}

/** Bytes: 1536 → "1.5 KiB", 73400320 → "70 MiB". */
export function formatBytes(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let x = v;
  while (Math.abs(x) >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${dec(x >= 100 || i === 0 ? 0 : 1).format(x)} ${units[i]}`;
}

/** A share: 0.0123 → "1.23%". */
export function formatPercent(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const p = v * 100;
  return `${dec(p !== 0 && Math.abs(p) < 1 ? 2 : 1).format(p)}%`;
}

/** Seconds until a sale opens: "opens in 2 h 05 m", "opens in 4 m 09 s", "open". */
export function formatCountdown(seconds: number): string {
  if (seconds <= 0) return 'open';
  const s = Math.ceil(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (d > 0) return `opens in ${d} d ${pad(h)} h`;
  if (h > 0) return `opens in ${h} h ${pad(m)} m`;
  if (m > 0) return `opens in ${m} m ${pad(sec)} s`;
  return `opens in ${sec} s`;
}

/** An age in seconds, short: 45 → "45s", 300 → "5m", 7200 → "2h", 200000 → "2d". */
export function formatAge(seconds: number): string {
  if (seconds < 60) return `${Math.max(0, Math.floor(seconds))}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

/** A clock time for chart axes and the feed: "14:03:27". */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
