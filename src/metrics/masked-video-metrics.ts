import type { Registry } from 'prom-client';
import type { MaskedTranscoderView } from '../contract/system.js';
import { collectedCounter, collectedGauge, type Sample } from './collected.js';

export interface MaskedVideoMetricsSources {
  /** The live transcoders of masked video running now (privacy/masked-video); absent: none. */
  maskedTranscoders?: () => MaskedTranscoderView[];
}

type Label = 'camera' | 'stream' | 'masks';
const LABELS: readonly Label[] = ['camera', 'stream', 'masks'];

/**
 * What burning privacy masks into live video costs, per transcoder (labels camera, stream and
 * masks, the hash of the polygon set): its CPU, and the viewers it serves. A transcoder stopped
 * after its last viewer left has no series.
 */
export function registerMaskedVideoMetrics(registry: Registry, sources: MaskedVideoMetricsSources): void {
  const read = (value: (t: MaskedTranscoderView) => number | null) =>
    function* (): Iterable<Sample<Label>> {
      for (const t of sources.maskedTranscoders?.() ?? []) {
        const v = value(t);
        if (v !== null)
          yield { labels: { camera: t.cameraId, stream: t.stream, masks: t.maskKey }, value: v };
      }
    };
  collectedCounter({
    registry,
    name: 'vigil_masked_transcoder_cpu_seconds_total',
    help: 'CPU seconds used by the ffmpeg that burns privacy masks into a live stream (rate() is cores used).',
    labelNames: LABELS,
    read: read((t) => t.cpuSeconds),
  });
  collectedGauge({
    registry,
    name: 'vigil_masked_transcoder_viewers',
    help: 'Live viewers served by a masked-video transcoder now.',
    labelNames: LABELS,
    read: read((t) => t.viewerCount),
  });
}
