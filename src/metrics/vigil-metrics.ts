import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { registerAnalyticsMetrics, type AnalyticsMetricsSources } from './analytics-metrics.js';
import { HttpMetrics, type HttpRequestSample } from './http-metrics.js';
import { StorageMetrics, type StorageMetricsSources } from './storage-metrics.js';
import { registerMaskedVideoMetrics, type MaskedVideoMetricsSources } from './masked-video-metrics.js';
import { registerStreamMetrics } from './stream-metrics.js';

export type { HttpRequestSample } from './http-metrics.js';

export interface MetricsSources
  extends StorageMetricsSources, AnalyticsMetricsSources, MaskedVideoMetricsSources {
  version: string;
}

/** A scrape: the text and the Content-Type to send it with. */
export interface MetricsText {
  contentType: string;
  text: string;
}

/**
 * Vigil's Prometheus metrics (GET /metrics, docs/ref/api.md). Each Vigil has a registry of its
 * own, never prom-client's global one: tests run several Vigils in one process, and two would
 * fight over the same metric names. Most values are read from the running parts when scraped;
 * only what happens and leaves no trace (HTTP requests, detector calls, events) is counted as
 * it happens.
 */
export class VigilMetrics {
  private readonly registry = new Registry();
  private readonly http: HttpMetrics;
  private readonly storage: StorageMetrics;
  private readonly stopListening: () => void;
  private processMetrics = false;

  constructor(sources: MetricsSources) {
    const { registry } = this;
    new Gauge({
      name: 'vigil_build_info',
      help: 'Always 1; the version of Vigil that runs, as a label.',
      labelNames: ['version'],
      registers: [registry],
    }).set({ version: sources.version }, 1);
    registerStreamMetrics(registry, sources.cameras);
    this.storage = new StorageMetrics(registry, sources);
    this.stopListening = registerAnalyticsMetrics(registry, sources);
    registerMaskedVideoMetrics(registry, sources);
    this.http = new HttpMetrics(registry);
  }

  observeHttpRequest(sample: HttpRequestSample): void {
    this.http.observe(sample);
  }

  async render(): Promise<MetricsText> {
    // Node's process metrics (CPU, memory, event-loop lag) start with the first scrape: they
    // install a GC observer and an event-loop monitor that prom-client never removes, which a
    // Vigil nobody scrapes (every test Vigil) should not pay for.
    if (!this.processMetrics) {
      collectDefaultMetrics({ register: this.registry });
      this.processMetrics = true;
    }
    await this.storage.refresh();
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  stop(): void {
    this.stopListening();
    this.registry.clear();
  }
}
