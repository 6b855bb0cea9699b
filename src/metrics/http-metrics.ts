import { Histogram, type Registry } from 'prom-client';

/** API answers take milliseconds; exports and clips stream for minutes, live sockets for hours. */
const HTTP_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120];

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** One answered request, as the API's onResponse hook reports it. */
export interface HttpRequestSample {
  method: string;
  /**
   * The pattern of the route the router matched (`/api/cameras/:id`), null when none matched.
   * Never the URL: a label per URL would grow without bound and put camera names, ids and
   * query strings (with whatever a caller typed) into every monitoring system that scrapes us.
   */
  route: string | null;
  statusCode: number;
  durationMs: number;
}

/** HTTP request durations by method, route pattern and status class (2xx, 4xx…). */
export class HttpMetrics {
  private readonly duration: Histogram<'method' | 'route' | 'status_class'>;

  constructor(registry: Registry) {
    this.duration = new Histogram({
      name: 'vigil_http_request_duration_seconds',
      help:
        'Time from request to the end of the response, by route pattern (unmatched: no route) and status ' +
        'class; WebSockets count until they close.',
      labelNames: ['method', 'route', 'status_class'],
      buckets: HTTP_BUCKETS_S,
      registers: [registry],
    });
  }

  observe(sample: HttpRequestSample): void {
    // Any token is a valid HTTP method: only the ones Vigil answers get a series of their own.
    const method = METHODS.has(sample.method) ? sample.method : 'other';
    const statusClass = `${Math.min(9, Math.max(1, Math.floor(sample.statusCode / 100)))}xx`;
    this.duration.observe(
      { method, route: sample.route ?? 'unmatched', status_class: statusClass },
      Math.max(0, sample.durationMs) / 1000,
    );
  }
}
