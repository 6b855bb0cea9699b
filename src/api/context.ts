import type { OnvifService } from '../onvif/onvif-service.js';
import type { Logger } from 'pino';
import type { AnalyticsService } from '../analytics/pipeline/analytics-service.js';
import type { CameraManager } from '../camera/camera-manager.js';
import type { MaskedVideo } from '../privacy/masked-video/index.js';
import type { AuthServices } from '../auth/service.js';
import type { CameraService } from '../camera-admin/camera-service.js';
import type { EventServices } from '../events/index.js';
import type { ApprovalService } from '../approvals/approval-service.js';
import type { EvidenceService } from '../evidence/evidence-service.js';
import type { RuleService } from '../rules/rule-service.js';
import type { ExportService } from '../export/service.js';
import type { FfmpegBinary } from '../ingest/ffmpeg-binary.js';
import type { VigilMetrics } from '../metrics/vigil-metrics.js';
import type { AddressAllowList } from '../auth/permissions.js';
import type { MaskService } from '../privacy/mask-service.js';
import type { PlaybackService } from '../recording/playback.js';
import type { NotifyServices } from '../notify/index.js';
import type { MotionIndex } from '../storage/motion-index.js';
import type { CameraEventIndex } from '../storage/camera-event-index.js';
import type { SceneCountStore } from '../storage/scene-counts.js';
import type { SystemStatus } from '../system/system-status.js';
import type { Clock } from '../time/clock.js';
import type { SessionRouteDeps } from './routes/session.js';

/**
 * The services the HTTP API is built on, as the composition root (src/app/vigil.ts) hands them
 * to buildServer(). No route sees this whole: buildServer gives each route plugin the few
 * services it uses.
 */
export interface ApiServices {
  version: string;
  clock: Clock;
  log: Logger;
  /** Users, sessions, tokens, the audit log. */
  auth: AuthServices;
  /** Cameras as the API manages them (camera-admin). */
  cameraAdmin: CameraService;
  /** The running cameras, for their streams (live view, snapshots, recordings). */
  cameras: CameraManager;
  /** Health and the system page. */
  system: SystemStatus;
  playback: PlaybackService;
  /** Video with privacy masks burnt in, for callers who must not see under them. */
  maskedVideo: MaskedVideo;
  /** Signed export bundles and their share links. */
  exports: ExportService;
  /** Event store, manager and bus (for /api/events and /api/ws). */
  events: EventServices;
  /** Four-eyes approval (GET/POST /api/approvals) and what waits on it. */
  approvals: ApprovalService;
  /** Evidence locks (/api/evidence) and recording deletion. */
  evidence: EvidenceService;
  /** Rules (/api/rules) and alerts (/api/alerts). */
  rules: RuleService;
  /** Alert delivery: the webhook log and test, Web Push subscriptions. */
  notify: NotifyServices;
  analytics: AnalyticsService;
  motion: MotionIndex;
  /** The cameras' own events (ONVIF), for the timeline. */
  cameraEvents: CameraEventIndex;
  /** Tripwire and zone counts (GET /api/cameras/:id/counts). */
  sceneCounts: SceneCountStore;
  /** site.timeZone: hours and days of counts begin in it. */
  timeZone: string;
  /** Privacy masks: what each caller gets blacked out, and lifts. */
  masks: MaskService;
  /** ONVIF discovery, device probing and PTZ. */
  onvif: OnvifService;
  /** The ffmpeg that encodes snapshots. */
  ffmpegPath: string;
  /** The same ffmpeg with its version, for redacted exports (decode and re-encode). */
  ffmpeg: FfmpegBinary;
  /** Prometheus metrics: GET /metrics renders them, every response is timed into them. */
  metrics: Pick<VigilMetrics, 'render' | 'observeHttpRequest'>;
  /** server.webrtcStunServer: null offers host candidates only. */
  webrtcStunServer: string | null;
  /** server.metricsAllowFrom: addresses that may read /metrics without a token. */
  metricsAllowFrom: AddressAllowList;
  /** TLS, host names and first-run setup, for the sign-in routes and cookies. */
  http: Omit<SessionRouteDeps, 'signIn' | 'sessionLifetimeMs'> & {
    /** The certificate is self-signed (then no HSTS, which would lock users out of the warning page). */
    tlsSelfSigned: boolean;
  };
}
