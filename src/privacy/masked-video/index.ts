import type { Logger } from 'pino';
import type { Principal } from '../../auth/permissions.js';
import type { MaskedTranscoderView } from '../../contract/system.js';
import type { PlaybackService } from '../../recording/playback.js';
import type { Clock } from '../../time/clock.js';
import type { Timers } from '../../time/timers.js';
import type { MaskPolygon } from '../mask-overlay.js';
import type { MaskPolicy } from '../mask-policy.js';
import { MaskedLive } from './masked-live.js';
import { MaskedPlayback } from './masked-playback.js';
import type { MaskedRecording } from './masked-recording.js';

export { maskMp4, maskTransform, type MaskedFile } from './masked-playback.js';
export { maskKey } from './mask-args.js';
export { MaskedRecording, masksAtRecording } from './masked-recording.js';
export type { MaskedLive } from './masked-live.js';
export type { MaskedPlayback } from './masked-playback.js';

export interface MaskedVideoDeps {
  policy: MaskPolicy;
  ffmpeg: { path: string; major: number };
  playback: Pick<PlaybackService, 'scan' | 'initBytes' | 'partStream'>;
  log: Logger;
  clock: Clock;
  timers?: Timers;
  /** "Mask at recording", whose transcoders are shown with the live ones. */
  recording?: Pick<MaskedRecording, 'status'>;
  /** How long a live transcoder outlives its last viewer (default IDLE_STOP_MS). */
  idleStopMs?: number;
}

/**
 * Video with privacy masks burnt in on the server, for every route that sends video: live view
 * (shared transcoders), recorded playback and exports (re-encoded on request). The routes ask
 * masksFor(); an empty answer means the plain stream-copy path.
 */
export class MaskedVideo {
  readonly live: MaskedLive;
  readonly playback: MaskedPlayback;

  constructor(private readonly deps: MaskedVideoDeps) {
    this.live = new MaskedLive({
      policy: deps.policy,
      ffmpeg: deps.ffmpeg,
      log: deps.log,
      clock: deps.clock,
      ...(deps.timers ? { timers: deps.timers } : {}),
      ...(deps.idleStopMs !== undefined ? { idleStopMs: deps.idleStopMs } : {}),
    });
    this.playback = new MaskedPlayback({ ffmpeg: deps.ffmpeg, playback: deps.playback });
  }

  masksFor(principal: Principal, cameraId: string): readonly MaskPolygon[] {
    return this.deps.policy.masksFor(principal, cameraId);
  }

  /** For files that leave the system (exports, event clips): see MaskPolicy.exportMasksFor. */
  exportMasksFor(principal: Principal, cameraId: string): readonly MaskPolygon[] {
    return (
      this.deps.policy.exportMasksFor?.(principal, cameraId) ?? this.deps.policy.masksFor(principal, cameraId)
    );
  }

  /** The live transcoders running now and their CPU (system page, metrics), and the recording ones. */
  transcoders(): MaskedTranscoderView[] {
    return [...this.live.status(), ...(this.deps.recording?.status() ?? [])];
  }

  stop(): void {
    this.live.stop();
  }
}
