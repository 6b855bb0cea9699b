import {
  MediaStreamTrack,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  RtpHeader,
  RtpPacket,
  type RTCIceCandidate,
} from 'werift';
import type { LiveIceCandidate, LiveMessage } from '../contract/live.js';
import type { LiveEndReason } from './live-feed.js';
import { RtpLiveViewer, VIDEO_CLOCK_RATE, type RtpOut } from './rtp-live-viewer.js';

/**
 * The H.264 the camera sends is forwarded as is, so the offer lists the profiles cameras use;
 * decoders in browsers take any of them once negotiated. Packetization mode 1 (FU-A).
 */
const H264_PROFILES = ['640032', '4d0032', '42e01f'];

/** The browser's microphone for talking through a camera: Opus, what every WebRTC browser sends. */
const OPUS = new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48_000, channels: 2 });

function h264Codecs(): RTCRtpCodecParameters[] {
  return H264_PROFILES.map(
    (profile) =>
      new RTCRtpCodecParameters({
        mimeType: 'video/H264',
        clockRate: VIDEO_CLOCK_RATE,
        rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
        parameters: `level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=${profile}`,
      }),
  );
}

export interface WebRtcLiveOptions {
  /** A STUN server (stun:host:port) for server-reflexive candidates; null: host candidates only (LAN). */
  stunServer: string | null;
  /** Sends a message to the player over the live WebSocket. */
  send(message: LiveMessage): void;
  /** The peer connected: media can flow, so the session starts watching the stream now. */
  onConnected(viewer: RtpLiveViewer): void;
  /** The stream ended ('changed', 'removed') or the peer went away (null). */
  onEnded(reason: LiveEndReason | null): void;
  /** An RTP packet of the player's microphone (Opus); it sends some only while talking. */
  onAudioRtp(packet: Buffer): void;
}

/**
 * One WebRTC live viewer: a server-side peer connection (werift) with one sendonly H.264 track
 * and one recvonly Opus track (the microphone, for talking),
 * negotiated over the live WebSocket. The server offers, the player answers; candidates go both
 * ways. The RTP comes from an RtpLiveViewer fed by the same fan-out as MSE viewers.
 */
export class WebRtcLiveSession {
  readonly viewer: RtpLiveViewer;
  private readonly pc: RTCPeerConnection;
  private readonly track = new MediaStreamTrack({ kind: 'video' });
  private connected = false;
  private closed = false;

  constructor(private readonly opts: WebRtcLiveOptions) {
    this.pc = new RTCPeerConnection({
      codecs: { video: h264Codecs(), audio: [OPUS] },
      iceServers: opts.stunServer ? [{ urls: opts.stunServer }] : [],
      // One transport for video and microphone: fewer ports, and none left open after close.
      bundlePolicy: 'max-bundle',
    });
    this.viewer = new RtpLiveViewer({
      writeRtp: (packet) => this.track.writeRtp(rtpPacket(packet)),
      sendText: (message) => opts.send(JSON.parse(message) as LiveMessage),
      close: (reason) => opts.onEnded(reason),
    });
    const transceiver = this.pc.addTransceiver(this.track, { direction: 'sendonly' });
    transceiver.sender.onPictureLossIndication.subscribe(() => this.viewer.requestKeyframe());
    // Offered always, so talking starts without renegotiation: the player puts its microphone on
    // this transceiver when talking and takes it off after.
    const audio = this.pc.addTransceiver('audio', { direction: 'recvonly' });
    audio.onTrack.subscribe((track) =>
      track.onReceiveRtp.subscribe((packet) => opts.onAudioRtp(packet.serialize())),
    );
    this.pc.onIceCandidate.subscribe((candidate) => opts.send(candidateMessage(candidate)));
    this.pc.connectionStateChange.subscribe((state) => this.onState(state));
  }

  /** Creates the offer and sends it to the player. */
  async start(): Promise<void> {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    const sdp = this.pc.localDescription?.sdp ?? offer.sdp;
    this.opts.send({ type: 'webrtc.offer', sdp });
  }

  async answer(sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
  }

  async addCandidate(candidate: LiveIceCandidate | null): Promise<void> {
    if (candidate === null || candidate.candidate === '') return;
    // Browsers hide their address behind an mDNS name (….local). Resolving it would open a
    // multicast socket that outlives the session; the browser's checks reach Vigil's own host
    // candidates anyway and give its address as peer-reflexive.
    if (/\s\S+\.local\s/.test(candidate.candidate)) return;
    await this.pc.addIceCandidate({
      candidate: candidate.candidate,
      sdpMid: candidate.sdpMid ?? undefined,
      sdpMLineIndex: candidate.sdpMLineIndex ?? undefined,
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.track.stop();
    void this.pc.close();
  }

  private onState(state: string): void {
    if (state === 'connected' && !this.connected) {
      this.connected = true;
      this.opts.onConnected(this.viewer);
    } else if ((state === 'failed' || state === 'closed') && !this.closed) {
      this.opts.onEnded(null);
    }
  }
}

function rtpPacket(out: RtpOut): RtpPacket {
  const header = new RtpHeader({
    marker: out.marker,
    sequenceNumber: out.sequenceNumber,
    timestamp: out.timestamp,
  });
  return new RtpPacket(header, out.payload);
}

function candidateMessage(candidate: RTCIceCandidate | undefined): LiveMessage {
  if (!candidate) return { type: 'webrtc.candidate', candidate: null };
  const json = candidate.toJSON();
  return {
    type: 'webrtc.candidate',
    candidate: {
      candidate: json.candidate,
      sdpMid: json.sdpMid ?? null,
      sdpMLineIndex: json.sdpMLineIndex ?? null,
    },
  };
}
