// Counters read from a service's Prometheus /metrics.

/** The value of the first sample matching `re` (one capture group) on a service's /metrics, 0 if none. */
export async function metric(url: string, re: RegExp): Promise<number> {
  return Number(re.exec(await (await fetch(`${url}/metrics`)).text())?.[1] ?? 0);
}

/** The sum of `metric(url, re)` over several services. */
export async function metricSum(urls: string[], re: RegExp): Promise<number> {
  const values = await Promise.all(urls.map((u) => metric(u, re)));
  return values.reduce((a, b) => a + b, 0);
}
