import type { Logger } from 'pino';
import type { ProbeResponse } from '../contract/cameras.js';
import { LatestGop } from '../live/latest-gop.js';
import type { CameraNetworks } from '../config/url.js';
import type { Clock } from '../time/clock.js';
import { systemTimers, type Timers } from '../time/timers.js';
import type { FfmpegBinary } from '../ingest/ffmpeg-binary.js';
import type { IngestFragment } from '../ingest/fragment.js';
import { planSource, type SourceSpec } from '../ingest/sources.js';
import { StreamSupervisor, type StreamStatus } from '../ingest/supervisor.js';

/** Media to collect before reporting: enough for the frame rate and bitrate to mean something. */
const PROBE_MEDIA_MS = 1000;

/**
 * "Test connection": pulls the stream exactly as recording would (same plan, same supervisor,
 * same error wording), so a probe that passes means the camera will record. Stops at the first
 * second of media, the first failure or timeoutMs, whichever comes first; at the limit ffmpeg is
 * stopped (SIGTERM, then SIGKILL 3 s later) before the answer goes out, so no probe outlives it.
 */
export async function probeStream(
  spec: SourceSpec,
  deps: {
    ffmpeg: FfmpegBinary;
    clock: Clock;
    log: Logger;
    timeoutMs: number;
    cameraNetworks?: CameraNetworks | undefined;
    /** Default Node's timers. */
    timers?: Timers;
  },
): Promise<ProbeResponse> {
  const startedAtMs = deps.clock.nowMs();
  const timers = deps.timers ?? systemTimers;
  const elapsed = () => Math.round(deps.clock.nowMs() - startedAtMs);
  const plan = await planSource(spec, deps.ffmpeg, deps.timeoutMs, { cameraNetworks: deps.cameraNetworks });
  const supervisor = new StreamSupervisor({
    cameraId: 'probe',
    stream: 'probe',
    plan,
    clock: deps.clock,
    log: deps.log,
    timers,
    // Only the audio-transcode retry matters here: every other failure ends the probe.
    retryInitialMs: 200,
    retryMaxMs: 200,
    // The watchdog adds its connect allowance; the overall timer below is what bounds the probe.
    stallTimeoutMs: deps.timeoutMs,
  });
  const gop = new LatestGop();
  let mediaMs = 0;
  let hasAudio = false;
  const frameDurationsS: number[] = [];
  const outcome = await new Promise<{ ok: true } | { ok: false; kind: string; message: string }>(
    (resolve) => {
      const timer = timers.after(deps.timeoutMs, () =>
        resolve({
          ok: false,
          kind: 'timeout',
          message: `no video within ${Math.round(deps.timeoutMs / 1000)} s: check the URL and that the camera is on the network`,
        }),
      );
      supervisor.on('fragment', (fragment: IngestFragment) => {
        gop.add(fragment);
        hasAudio = fragment.init.tracks.some((t) => t.kind === 'audio');
        const video = fragment.init.tracks.find((t) => t.kind === 'video');
        const run = fragment.parsed.tracks.find((t) => t.trackId === video?.trackId);
        mediaMs +=
          ((run?.samples.reduce((n, s) => n + s.durationTicks, 0) ?? 0) * 1000) / (video?.timescale ?? 1);
        if (mediaMs >= PROBE_MEDIA_MS) {
          timer.cancel();
          resolve({ ok: true });
        }
      });
      supervisor.on('status', (status: StreamStatus) => {
        const failed = status.state === 'error' || status.state === 'offline';
        if (failed && status.lastError && status.lastError.kind !== 'unsupported_audio') {
          timer.cancel();
          resolve({ ok: false, kind: status.lastError.kind, message: status.lastError.message });
        }
      });
      supervisor.start();
    },
  );
  const status = supervisor.status();
  const snapshot = outcome.ok ? await gop.snapshot(deps.ffmpeg.path).catch(() => null) : null;
  await supervisor.stop();
  if (!outcome.ok) return { ...outcome, elapsedMs: elapsed() };
  return {
    ok: true,
    codec: status.codec ?? 'unknown',
    width: status.width,
    height: status.height,
    fps: medianFps(frameDurationsS) ?? status.fps,
    bitrateKbps: status.bitrateKbps,
    hasAudio,
    snapshotDataUrl: snapshot ? `data:image/jpeg;base64,${snapshot.toString('base64')}` : null,
    elapsedMs: elapsed(),
  };
}

/**
 * The frame rate from the typical frame duration: one second of a fresh connection is too short
 * for frames/second, because cameras and ffmpeg often start with a few frames of near-zero duration.
 */
function medianFps(durationsS: number[]): number | null {
  const sorted = durationsS.filter((d) => d > 0).sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  return median ? Math.round(10 / median) / 10 : null;
}
