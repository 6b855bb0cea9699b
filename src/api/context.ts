import type { Logger } from 'pino';
import type { HostPolicy } from '../auth/host-check.js';
import type { AuthServices } from '../auth/service.js';
import type { AnalyticsService } from '../analytics/pipeline/analytics-service.js';
import type { MotionIndex } from '../storage/motion-index.js';
import type { CameraManager } from '../camera/camera-manager.js';
import type { CameraStore } from '../camera/camera-store.js';
import type { EventServices } from '../events/index.js';
import type { FfmpegBinary } from '../ingest/ffmpeg-binary.js';
import type { PlaybackService } from '../recording/playback.js';
import type { RetentionRunner } from '../storage/retention.js';
import type { SegmentIndex } from '../storage/segment-index.js';
import type { Clock } from '../time/clock.js';

/** Everything the HTTP API needs from the running Vigil; tests build it from real parts. */
export interface ApiContext {
  version: string;
  startedAtMs: number;
  clock: Clock;
  log: Logger;
  cameras: CameraManager;
  cameraStore: CameraStore;
  playback: PlaybackService;
  index: SegmentIndex;
  retention: RetentionRunner;
  ffmpeg: FfmpegBinary;
  storageRoot: string;
  /** Event store, manager and bus (for /api/events and /api/ws). */
  events: EventServices;
  analytics: AnalyticsService;
  motion: MotionIndex;
  /** Users, sessions, tokens, the audit log. */
  auth: AuthServices;
  /** Served over TLS (cookies are Secure). */
  tls: boolean;
  /** The certificate is self-signed (then no HSTS, which would lock users out of the warning page). */
  tlsSelfSigned: boolean;
  /** Where Vigil listens and server.allowedHosts: setup and sign-in answer only to these names (DNS rebinding). */
  hosts: HostPolicy;
  /** Whether a socket address is this machine (first-run setup is only allowed from it). */
  isLoopback(address: string | undefined): boolean;
  /** Called once the first administrator exists: Vigil starts listening where configured. */
  onFirstAdmin(): Promise<void>;
}
