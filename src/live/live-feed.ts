import type { IngestFragment } from '../ingest/fragment.js';
import type { InitSegment } from '../media/mp4/index.js';
import type { LiveDetectionsMessage, LiveInitMessage, LiveStatusMessage } from '../contract/live.js';

/** What a live viewer's connection must offer; the WebSocket route adapts a socket to it. */
export interface LiveViewer {
  sendText(message: string): void;
  sendBinary(bytes: Buffer): void;
  /** Bytes queued in the connection and not yet sent. */
  bufferedBytes(): number;
  /**
   * The stream is gone: 'changed' (camera edited: reconnect to the new stream) or 'removed'
   * (camera deleted: stop, there is nothing to reconnect to).
   */
  close(reason: LiveEndReason): void;
}

export type LiveEndReason = 'changed' | 'removed';

/**
 * Above this much unsent data a viewer is behind (a slow phone, a weak Wi-Fi): it skips to the
 * next keyframe instead of falling further behind, because live video late is worse than
 * live video with a jump. ~2.5 s of a 3 Mbit/s main stream.
 */
export const LAGGING_VIEWER_BYTES = 1024 * 1024;

const JOINED = JSON.stringify({ type: 'joined' });

/** The longest GOP kept for a viewer who joins; a longer one starts at the next keyframe. */
const MAX_GOP_FRAGMENTS = 600;

interface ViewerState {
  /** The init segment this viewer decodes with: a new ingest connection needs a new one. */
  connectionId: number | null;
  /** Skipping fragments until the next keyframe, after falling behind or joining mid-GOP. */
  waitingForKeyframe: boolean;
}

/** MSE's type string for an init segment, e.g. video/mp4; codecs="avc1.640028,mp4a.40.2". */
export function mimeTypeOf(init: InitSegment): string {
  const codecs = init.tracks.filter((t) => t.kind !== 'other').map((t) => t.codecString);
  return `video/mp4; codecs="${codecs.join(',')}"`;
}

function initMessage(init: InitSegment, connectionId: number): LiveInitMessage {
  const video = init.tracks.find((t) => t.kind === 'video');
  return {
    type: 'init',
    connectionId,
    mimeType: mimeTypeOf(init),
    width: video?.width ?? null,
    height: video?.height ?? null,
  };
}

/**
 * Fans one stream's fragments out to every live viewer without transcoding, so the camera is
 * pulled once however many people watch. A viewer who joins gets the init segment and the
 * current GOP at once, so the first frame shows without waiting for the next keyframe.
 */
export class LiveFeed {
  private readonly viewers = new Map<LiveViewer, ViewerState>();
  private gop: IngestFragment[] = [];

  get viewerCount(): number {
    return this.viewers.size;
  }

  add(viewer: LiveViewer): void {
    const state: ViewerState = { connectionId: null, waitingForKeyframe: false };
    this.viewers.set(viewer, state);
    for (const fragment of this.gop) this.deliver(viewer, state, fragment);
    viewer.sendText(JOINED);
  }

  remove(viewer: LiveViewer): void {
    this.viewers.delete(viewer);
  }

  push(fragment: IngestFragment): void {
    const keyframe = fragment.parsed.startsWithKeyframe;
    if (keyframe || this.gop[0]?.connectionId !== fragment.connectionId) this.gop = [];
    if ((keyframe || this.gop.length > 0) && this.gop.length < MAX_GOP_FRAGMENTS) this.gop.push(fragment);
    for (const [viewer, state] of this.viewers) this.deliver(viewer, state, fragment);
  }

  /** The stream went offline or changed state: viewers show it and drop the stale GOP. */
  status(message: LiveStatusMessage): void {
    if (message.state !== 'online') this.gop = [];
    const text = JSON.stringify(message);
    for (const viewer of this.viewers.keys()) viewer.sendText(text);
  }

  /** Boxes of what analytics tracks now, for players that draw them over the video. */
  detections(message: LiveDetectionsMessage): void {
    if (this.viewers.size === 0) return;
    const text = JSON.stringify(message);
    for (const viewer of this.viewers.keys()) viewer.sendText(text);
  }

  closeAll(reason: LiveEndReason): void {
    for (const viewer of this.viewers.keys()) viewer.close(reason);
    this.viewers.clear();
    this.gop = [];
  }

  private deliver(viewer: LiveViewer, state: ViewerState, fragment: IngestFragment): void {
    const keyframe = fragment.parsed.startsWithKeyframe;
    if (viewer.bufferedBytes() > LAGGING_VIEWER_BYTES) {
      state.waitingForKeyframe = true;
      return;
    }
    if (state.connectionId !== fragment.connectionId) {
      if (!keyframe) return;
      viewer.sendText(JSON.stringify(initMessage(fragment.init, fragment.connectionId)));
      viewer.sendBinary(fragment.init.bytes);
      state.connectionId = fragment.connectionId;
      state.waitingForKeyframe = false;
    }
    if (state.waitingForKeyframe) {
      if (!keyframe) return;
      state.waitingForKeyframe = false;
    }
    viewer.sendBinary(fragment.bytes);
  }
}
