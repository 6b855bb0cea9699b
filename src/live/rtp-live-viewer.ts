import { listBoxes, parseFragment, parseInitSegment, type InitSegment } from '../media/mp4/index.js';
import { avcDecoderConfig } from '../media/mp4/avc-config.js';
import { accessUnitPayloads, splitLengthPrefixed, type RtpPayload } from './h264-rtp.js';
import type { LiveEndReason, LiveViewer } from './live-feed.js';

/** RTP clock rate of video (RFC 6184 §8.2.1). */
export const VIDEO_CLOCK_RATE = 90_000;
/**
 * Spacing of the frames of the GOP a joining viewer gets at once (1 ms): they are decoded back to
 * back and the picture catches up with the live edge instead of replaying the GOP at its pace.
 */
const CATCH_UP_TICKS = 90;

/** One RTP packet's fields that the viewer decides; the peer connection adds SSRC and payload type. */
export interface RtpOut extends RtpPayload {
  sequenceNumber: number;
  timestamp: number;
}

interface VideoTrackState {
  init: InitSegment;
  trackId: number;
  timescale: number;
  nalLengthBytes: number;
  parameterSets: Buffer[];
}

export interface RtpLiveViewerOptions {
  /** Sends one RTP packet to the peer. */
  writeRtp(packet: RtpOut): void;
  /** Status and detection messages, which still go over the WebSocket. */
  sendText(message: string): void;
  close(reason: LiveEndReason): void;
}

/**
 * A live viewer that turns the fragmented MP4 a LiveFeed (or the masked transcoder) sends into
 * H.264 RTP for a WebRTC peer: same fan-out, same privacy decision, no transcoding. The RTP
 * clock runs on the fragments' decode times, so a camera reconnecting (a new init, decode times
 * starting again) does not make it jump backwards.
 */
export class RtpLiveViewer implements LiveViewer {
  private video: VideoTrackState | null = null;
  private joined = false;
  private waitingForKeyframe = true;
  private lastDecodeTime: number | null = null;
  private sequenceNumber = Math.floor(Math.random() * 0x10000);
  private timestamp = Math.floor(Math.random() * 0x1_0000_0000);
  private frames = 0;

  constructor(private readonly opts: RtpLiveViewerOptions) {}

  /** Access units sent so far (for the session's status and tests). */
  get framesSent(): number {
    return this.frames;
  }

  /** The peer lost a picture (PLI): send nothing until the next keyframe, which it can decode. */
  requestKeyframe(): void {
    this.waitingForKeyframe = true;
  }

  sendText(message: string): void {
    const type = (JSON.parse(message) as { type?: string }).type;
    if (type === 'joined') this.joined = true;
    // init is for MSE players: here the parameter sets travel in band before each keyframe.
    if (type === 'init' || type === 'joined') return;
    this.opts.sendText(message);
  }

  sendBinary(bytes: Buffer): void {
    const first = listBoxes(bytes)[0]?.type;
    if (first === 'ftyp') this.onInit(bytes);
    else if (this.video) this.onFragment(bytes, this.video);
  }

  /** Packets leave through UDP at once: nothing queues here for the lagging-viewer rule to see. */
  bufferedBytes(): number {
    return 0;
  }

  close(reason: LiveEndReason): void {
    this.opts.close(reason);
  }

  private onInit(bytes: Buffer): void {
    const init = parseInitSegment(bytes);
    const track = init.tracks.find((t) => t.kind === 'video' && t.codec === 'h264');
    const config = track ? avcDecoderConfig(track.stsd) : null;
    this.video =
      track && config
        ? {
            init,
            trackId: track.trackId,
            timescale: track.timescale,
            nalLengthBytes: config.nalLengthBytes,
            parameterSets: [...config.sps, ...config.pps],
          }
        : null;
    this.lastDecodeTime = null;
    this.waitingForKeyframe = true;
  }

  private onFragment(bytes: Buffer, video: VideoTrackState): void {
    const moof = listBoxes(bytes).find((b) => b.type === 'moof');
    if (!moof) return;
    const fragment = parseFragment(bytes.subarray(moof.start), 0, video.init);
    const run = fragment.tracks.find((t) => t.trackId === video.trackId);
    for (const sample of run?.samples ?? []) {
      if (this.waitingForKeyframe && !sample.isSync) continue;
      this.waitingForKeyframe = false;
      const data = bytes.subarray(
        moof.start + sample.fileOffset,
        moof.start + sample.fileOffset + sample.size,
      );
      this.advanceClock(sample.decodeTime, video.timescale);
      const nalUnits = splitLengthPrefixed(data, video.nalLengthBytes);
      const payloads = accessUnitPayloads(nalUnits, sample.isSync ? video.parameterSets : []);
      for (const payload of payloads) {
        this.opts.writeRtp({ ...payload, sequenceNumber: this.sequenceNumber, timestamp: this.timestamp });
        this.sequenceNumber = (this.sequenceNumber + 1) & 0xffff;
      }
      this.frames += 1;
    }
  }

  private advanceClock(decodeTime: number, timescale: number): void {
    if (this.lastDecodeTime !== null) {
      const ticks = this.joined
        ? Math.max(1, Math.round(((decodeTime - this.lastDecodeTime) * VIDEO_CLOCK_RATE) / timescale))
        : CATCH_UP_TICKS;
      this.timestamp = (this.timestamp + ticks) >>> 0;
    }
    this.lastDecodeTime = decodeTime;
  }
}
