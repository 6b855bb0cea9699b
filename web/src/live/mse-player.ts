import type { StreamState } from '@contract/cameras';
import { LIVE_CLOSE_REMOVED, WS_CLOSE_ACCESS_REVOKED } from '@contract/close-codes';
import type { LiveDetectionsMessage, LiveMessage } from '@contract/live';
import {
  CATCH_UP_RATE,
  DEFAULT_FRAME_STEP_S,
  liveTargetLagS,
  nextCatchingUp,
  nextFrameStepS,
} from './live-lag.js';

export interface LiveState {
  /** The camera's stream as the server reports it, or 'connecting' until the socket is open. */
  state: StreamState;
  reason: string | null;
  /** Set when this browser cannot play the stream at all (codec), so the tile can say so. */
  unsupported: string | null;
}

/** Behind by more than this, jump: after joining (the server sends the GOP so far) or a stall. */
const MAX_LAG_S = 1;
/** Media kept behind the playhead; older data is removed so a tile open for days stays small. */
const KEEP_BEHIND_S = 10;
const RECONNECT_MAX_MS = 5000;

type MediaSourceCtor = typeof MediaSource;

/** The reconnection delay after `delayMs`: doubling, at most RECONNECT_MAX_MS. */
export function nextReconnectDelayMs(delayMs: number): number {
  return Math.min(RECONNECT_MAX_MS, delayMs * 2);
}

/**
 * A live socket closed: reports what it means for the tile. True when the player must stop (the
 * camera was removed, or the access ended); false when it should reconnect.
 */
export function liveSocketEnded(
  code: number,
  onState: (state: LiveState) => void,
  onRevoked: () => void,
): boolean {
  if (code === LIVE_CLOSE_REMOVED) {
    onState({ state: 'offline', reason: 'this camera was removed', unsupported: null });
    return true;
  }
  // Reconnecting would be refused (or, with the camera no longer granted, forbidden) again and
  // again: stop, and let the app check whether this browser is still signed in.
  if (code === WS_CLOSE_ACCESS_REVOKED) {
    onState({ state: 'offline', reason: 'signed out, or no longer allowed to watch', unsupported: null });
    onRevoked();
    return true;
  }
  onState({ state: 'connecting', reason: 'reconnecting to Vigil', unsupported: null });
  return false;
}

/** MediaSource, or Safari's ManagedMediaSource (iOS 17.1+), or null where neither exists. */
export function mediaSourceClass(): MediaSourceCtor | null {
  const w = window as unknown as { ManagedMediaSource?: MediaSourceCtor; MediaSource?: MediaSourceCtor };
  return w.MediaSource ?? w.ManagedMediaSource ?? null;
}

/**
 * Plays a camera's live fragmented MP4 from Vigil's WebSocket through Media Source Extensions.
 * The server sends the current GOP first, so a frame shows at once; after that the player keeps
 * itself within a fraction of a second of the newest frame.
 */
export class MsePlayer {
  private socket: WebSocket | null = null;
  private mediaSource: MediaSource | null = null;
  private sourceBuffer: SourceBuffer | null = null;
  private queue: ArrayBuffer[] = [];
  private mimeType: string | null = null;
  private stopped = false;
  private reconnectDelayMs = 500;
  private reconnectTimer: number | null = null;
  private objectUrl: string | null = null;
  /** True from an init until the fragments that came with it (the GOP so far) are appended. */
  private joining = false;
  /** The server has sent the whole join burst (a 'joined' message): once appended, go live. */
  private joinBurstReceived = false;
  /** The stream's step between frames, seen from how far each append moves the buffered end. */
  private frameStepS = DEFAULT_FRAME_STEP_S;
  private previousEndS: number | null = null;
  private catchingUp = false;

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly url: string,
    private readonly onState: (state: LiveState) => void,
    private readonly onDetections: (message: LiveDetectionsMessage) => void = () => undefined,
    /**
     * The server ended this view because its access ended (signed out, account or token
     * changed, camera no longer granted). The player has stopped; the caller finds out which.
     */
    private readonly onRevoked: () => void = () => undefined,
  ) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.reconnectTimer !== null) window.clearTimeout(this.reconnectTimer);
    this.socket?.close();
    this.socket = null;
    this.resetMedia();
  }

  private connect(): void {
    this.onState({ state: 'connecting', reason: null, unsupported: null });
    this.joinBurstReceived = false;
    const socket = new WebSocket(this.url);
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    socket.onmessage = (event: MessageEvent<string | ArrayBuffer>) => {
      if (typeof event.data === 'string') this.onMessage(JSON.parse(event.data) as LiveMessage);
      else this.enqueue(event.data);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket || this.stopped) return;
      this.socket = null;
      this.resetMedia();
      if (liveSocketEnded(event.code, this.onState, this.onRevoked)) {
        this.stopped = true;
        return;
      }
      this.reconnectTimer = window.setTimeout(() => this.connect(), this.reconnectDelayMs);
      this.reconnectDelayMs = nextReconnectDelayMs(this.reconnectDelayMs);
    };
  }

  private onMessage(message: LiveMessage): void {
    if (message.type === 'status') {
      this.onState({ state: message.state, reason: message.reason, unsupported: null });
      return;
    }
    if (message.type === 'detections') {
      this.onDetections(message);
      return;
    }
    if (message.type === 'joined') {
      this.joinBurstReceived = true;
      return;
    }
    // WebRTC signalling and its errors are for the WebRTC player only.
    if (message.type !== 'init') return;
    this.reconnectDelayMs = 500;
    const MediaSourceClass = mediaSourceClass();
    if (!MediaSourceClass || !MediaSourceClass.isTypeSupported(message.mimeType)) {
      this.onState({
        state: 'online',
        reason: null,
        unsupported: `this browser cannot play ${message.mimeType.replace(/^.*codecs="|"$/g, '')}`,
      });
      this.socket?.close();
      this.stopped = true;
      return;
    }
    // A new ingest connection restarts decode times: start a fresh MediaSource for it.
    this.resetMedia();
    this.joining = true;
    this.mimeType = message.mimeType;
    const mediaSource = new MediaSourceClass();
    this.mediaSource = mediaSource;
    this.objectUrl = URL.createObjectURL(mediaSource);
    // Safari's ManagedMediaSource only plays with remote playback disabled.
    this.video.disableRemotePlayback = true;
    this.video.src = this.objectUrl;
    mediaSource.addEventListener('sourceopen', () => this.onSourceOpen(mediaSource), { once: true });
  }

  private onSourceOpen(mediaSource: MediaSource): void {
    if (mediaSource !== this.mediaSource || !this.mimeType) return;
    const sourceBuffer = mediaSource.addSourceBuffer(this.mimeType);
    sourceBuffer.mode = 'segments';
    sourceBuffer.addEventListener('updateend', () => this.afterAppend());
    this.sourceBuffer = sourceBuffer;
    this.appendNext();
  }

  private enqueue(data: ArrayBuffer): void {
    if (!this.mediaSource) return;
    this.queue.push(data);
    this.appendNext();
  }

  private appendNext(): void {
    const sourceBuffer = this.sourceBuffer;
    if (!sourceBuffer || sourceBuffer.updating) return;
    const next = this.queue.shift();
    if (!next) return;
    try {
      sourceBuffer.appendBuffer(next);
    } catch (err) {
      // QuotaExceededError: drop what is behind the playhead and resync at the next init.
      console.warn('live append failed, reconnecting', err);
      this.socket?.close();
    }
  }

  private afterAppend(): void {
    const { video, sourceBuffer } = this;
    if (!sourceBuffer) return;
    const buffered = video.buffered;
    if (buffered.length > 0) {
      const start = buffered.start(0);
      const end = buffered.end(buffered.length - 1);
      const lagS = end - video.currentTime;
      if (!this.joining) this.frameStepS = nextFrameStepS(this.frameStepS, this.previousEndS, end);
      this.previousEndS = end;
      const targetLagS = liveTargetLagS(this.frameStepS);
      const joining = this.joining && this.joinBurstReceived && this.queue.length === 0;
      if (joining || video.currentTime < start || lagS > MAX_LAG_S) {
        // After the join burst (the GOP so far) the newest frame is the live one: start there.
        video.currentTime = Math.max(start, end - targetLagS);
        this.joining = false;
      }
      this.catchingUp = nextCatchingUp(end - video.currentTime, targetLagS, this.catchingUp);
      video.playbackRate = this.catchingUp ? CATCH_UP_RATE : 1;
      if (video.paused) void video.play().catch(() => undefined);
      if (video.currentTime - start > KEEP_BEHIND_S * 2 && !sourceBuffer.updating) {
        sourceBuffer.remove(start, video.currentTime - KEEP_BEHIND_S);
        return;
      }
    }
    this.appendNext();
  }

  private resetMedia(): void {
    this.queue = [];
    this.sourceBuffer = null;
    this.previousEndS = null;
    // A new connection may bring another frame rate: learnt again from its first appends.
    this.frameStepS = DEFAULT_FRAME_STEP_S;
    this.catchingUp = false;
    if (this.mediaSource?.readyState === 'open') {
      try {
        this.mediaSource.endOfStream();
      } catch {
        // Already ending: nothing to do.
      }
    }
    this.mediaSource = null;
    this.mimeType = null;
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
    this.objectUrl = null;
    this.video.removeAttribute('src');
    this.video.load();
  }
}
