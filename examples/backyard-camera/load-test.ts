/**
 * A bounded loopback load test of the backyard camera service: `requests`
 * POSTs of one JPEG frame, `concurrency` at a time; reports throughput, p50 /
 * p99 latency and the service's event-loop delay while it ran, and checks every
 * response (status, and the faces against `expectFaces` when given).
 *
 *   node examples/dist/backyard-camera/load-test.js <url> <photo.jpg> [requests] [concurrency]
 */
import { readFileSync } from 'fs';
import { monitorEventLoopDelay } from 'perf_hooks';

export interface LoadReport {
  requests: number;
  concurrency: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** The service's event-loop delay (its GET /stats) while it served the frames. */
  serverLoopP99Ms: number;
  /** The test process's own event loop, as a sanity check of the client. */
  loopP99Ms: number;
  statuses: Record<string, number>;
  /** Responses that were not a 200 with the expected faces. */
  bad: string[];
}

function quantile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;
}

export async function loadTest(url: string, frame: Uint8Array, requests = 200, concurrency = 8, expectFaces?: number): Promise<LoadReport> {
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const bad: string[] = [];
  let next = 0;
  const t0 = performance.now();
  const client = async (): Promise<void> => {
    while (next < requests) {
      const i = next++;
      const t = performance.now();
      const res = await fetch(`${url}/detect`, { method: 'POST', body: frame, headers: { 'content-type': 'image/jpeg' } });
      const body = (await res.json()) as { faces?: unknown[]; error?: string };
      latencies.push(performance.now() - t);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (res.status !== 200) bad.push(`#${i}: ${res.status} ${body.error ?? ''}`);
      else if (!Array.isArray(body.faces) || (expectFaces !== undefined && body.faces.length !== expectFaces)) bad.push(`#${i}: ${body.faces?.length} faces, expected ${expectFaces}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const seconds = (performance.now() - t0) / 1000;
  lag.disable();
  const stats = (await (await fetch(`${url}/stats`)).json()) as { loopP99Ms: number };
  latencies.sort((a, b) => a - b);
  return {
    requests,
    concurrency,
    seconds,
    perSecond: requests / seconds,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    serverLoopP99Ms: stats.loopP99Ms,
    loopP99Ms: lag.percentile(99) / 1e6,
    statuses,
    bad,
  };
}

if (require.main === module) {
  const [url, photo, n, c] = process.argv.slice(2);
  if (url === undefined || photo === undefined) {
    console.error('usage: node load-test.js <url> <photo.jpg> [requests] [concurrency]');
    process.exit(2);
  }
  loadTest(url, readFileSync(photo), n === undefined ? 200 : Number(n), c === undefined ? 8 : Number(c)).then((r) => {
    console.log(JSON.stringify(r, null, 2));
    if (r.bad.length > 0) process.exitCode = 1;
  });
}
