import type { Registry } from 'prom-client';
import type { CameraManager } from '../camera/camera-manager.js';
import type { StreamRuntime } from '../camera/stream-runtime.js';
import { collectedCounter, collectedGauge, type Sample } from './collected.js';

type StreamLabel = 'camera' | 'stream';
const STREAM_LABELS: readonly StreamLabel[] = ['camera', 'stream'];

interface StreamMetric {
  name: string;
  help: string;
  /** The value of one stream now; null leaves the stream out (no frame rate while offline). */
  value: (stream: StreamRuntime) => number | null;
}

/** Values that go up and down. */
const GAUGES: readonly StreamMetric[] = [
  {
    name: 'vigil_stream_up',
    help: 'Whether the stream delivers media now (1) or not (0).',
    value: (s) => (s.supervisor.status().state === 'online' ? 1 : 0),
  },
  {
    name: 'vigil_stream_frames_per_second',
    help: 'Frame rate of the stream over the last 10 s of media; absent while the stream is not online.',
    value: (s) => s.supervisor.status().fps,
  },
  {
    name: 'vigil_recording_lag_seconds',
    help: 'How long the oldest fragment received but not yet written has waited; 0 when recording keeps up.',
    value: (s) => s.recorder.lagMs() / 1000,
  },
  {
    name: 'vigil_live_viewers',
    help: 'Live viewers connected to the stream now.',
    value: (s) => s.live.viewerCount,
  },
];

/** Totals kept by the stream's supervisor and recorder; they restart when the camera is changed. */
const COUNTERS: readonly StreamMetric[] = [
  {
    name: 'vigil_stream_received_bytes_total',
    help: "Bytes of media received from the camera (the stream's bitrate is the rate of this).",
    value: (s) => s.supervisor.counters().receivedBytes,
  },
  {
    name: 'vigil_stream_received_frames_total',
    help: 'Video frames received from the camera.',
    value: (s) => s.supervisor.counters().receivedFrames,
  },
  {
    name: 'vigil_stream_reconnects_total',
    help: 'Times the stream was retried after a failure (camera unreachable, stalled, refused).',
    value: (s) => s.supervisor.status().reconnectCount,
  },
  {
    name: 'vigil_recording_written_bytes_total',
    help: 'Bytes written to recording files.',
    value: (s) => s.recorder.counters().writtenBytes,
  },
  {
    name: 'vigil_recording_dropped_fragments_total',
    help:
      'Fragments not recorded: before a keyframe started a segment, or dropped while the disk was too slow ' +
      '(too many waiting to be written).',
    value: (s) => s.recorder.counters().droppedFragmentCount,
  },
];

/**
 * Per stream (labels camera and stream): ingest, recording and live view, read at scrape time
 * from each stream's runtime: the supervisor's status and totals, the recorder's totals and lag,
 * the live feed's viewers. A disabled camera has no streams and so no series.
 */
export function registerStreamMetrics(registry: Registry, cameras: Pick<CameraManager, 'list'>): void {
  const read = (value: StreamMetric['value']) =>
    function* (): Iterable<Sample<StreamLabel>> {
      for (const camera of cameras.list()) {
        for (const [name, stream] of camera.streams) {
          const v = value(stream);
          if (v !== null) yield { labels: { camera: camera.config.id, stream: name }, value: v };
        }
      }
    };
  for (const { name, help, value } of GAUGES) {
    collectedGauge({ registry, name, help, labelNames: STREAM_LABELS, read: read(value) });
  }
  for (const { name, help, value } of COUNTERS) {
    collectedCounter({ registry, name, help, labelNames: STREAM_LABELS, read: read(value) });
  }
}
