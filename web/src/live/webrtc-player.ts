import type { LiveClientMessage, LiveDetectionsMessage, LiveMessage, LiveTalkMessage } from '@contract/live';
import { liveSocketEnded, nextReconnectDelayMs, type LiveState } from './mse-player';

/** WebRTC where MSE is missing (iPhone Safari) and RTCPeerConnection is there. */
export function webRtcAvailable(): boolean {
  return typeof window.RTCPeerConnection === 'function';
}

/**
 * Plays a camera's live video over WebRTC: the live WebSocket (`via=webrtc`) carries the
 * signalling, the server offers one H.264 track and this player answers. The socket also brings
 * status and detection messages, as for MSE. Reconnects like the MSE player.
 */
export class WebRtcPlayer {
  private socket: WebSocket | null = null;
  private pc: RTCPeerConnection | null = null;
  private stopped = false;
  private reconnectDelayMs = 500;
  private reconnectTimer: number | null = null;
  private microphone: MediaStream | null = null;
  /** Talking was asked for: applied as soon as the peer connection is there. */
  private wantTalking = false;

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly opts: {
      url: string;
      cameraId: string;
      onState: (state: LiveState) => void;
      onDetections: (message: LiveDetectionsMessage) => void;
      /** The access ended (see MsePlayer): the player has stopped. */
      onRevoked: () => void;
      /** Talking started or stopped, or was refused (an error message). */
      onTalk: (message: LiveTalkMessage | { type: 'error'; code: string; message: string }) => void;
    },
  ) {}

  /** Starts; returns what stops it and closes the peer connection. */
  start(): () => void {
    this.stopped = false;
    this.connect();
    return () => {
      this.stopped = true;
      if (this.reconnectTimer !== null) window.clearTimeout(this.reconnectTimer);
      this.socket?.close();
      this.socket = null;
      this.closePeer();
    };
  }

  private connect(): void {
    this.opts.onState({ state: 'connecting', reason: null, unsupported: null });
    const socket = new WebSocket(`${this.opts.url}&via=webrtc`);
    this.socket = socket;
    socket.onmessage = (event) => {
      if (typeof event.data === 'string') void this.onMessage(JSON.parse(event.data) as LiveMessage);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket || this.stopped) return;
      this.socket = null;
      this.closePeer();
      if (liveSocketEnded(event.code, this.opts.onState, this.opts.onRevoked)) {
        this.stopped = true;
        return;
      }
      this.reconnectTimer = window.setTimeout(() => this.connect(), this.reconnectDelayMs);
      this.reconnectDelayMs = nextReconnectDelayMs(this.reconnectDelayMs);
    };
  }

  private send(message: LiveClientMessage): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private async onMessage(message: LiveMessage): Promise<void> {
    switch (message.type) {
      case 'status':
        this.opts.onState({ state: message.state, reason: message.reason, unsupported: null });
        return;
      case 'detections':
        this.opts.onDetections(message);
        return;
      case 'webrtc.offer':
        await this.answer(message.sdp);
        return;
      case 'webrtc.candidate':
        if (message.candidate) await this.pc?.addIceCandidate(message.candidate);
        return;
      case 'talk':
        this.opts.onTalk(message);
        if (message.state === 'stopped') void this.setTalking(false);
        return;
      case 'error':
        console.warn(`live signalling refused: ${message.code} ${message.message}`);
        this.opts.onTalk(message);
        return;
      default:
        return;
    }
  }

  private async answer(sdp: string): Promise<void> {
    this.closePeer();
    const pc = new RTCPeerConnection();
    this.pc = pc;
    pc.ontrack = (event) => {
      this.video.srcObject = event.streams[0] ?? new MediaStream([event.track]);
      void this.video.play().catch(() => undefined);
    };
    pc.onicecandidate = (event) => {
      const candidate = event.candidate;
      this.send({
        type: 'webrtc.candidate',
        cameraId: this.opts.cameraId,
        candidate: candidate
          ? {
              candidate: candidate.candidate,
              sdpMid: candidate.sdpMid,
              sdpMLineIndex: candidate.sdpMLineIndex,
            }
          : null,
      });
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'connected') this.reconnectDelayMs = 500;
      if (pc.connectionState === 'failed') this.socket?.close();
    };
    await pc.setRemoteDescription({ type: 'offer', sdp });
    // The offer's audio is for talking: answer sendonly so the microphone can be put on it later
    // without renegotiating; without a track nothing is sent.
    for (const transceiver of pc.getTransceivers()) {
      if (transceiver.receiver.track.kind === 'audio') transceiver.direction = 'sendonly';
    }
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    this.send({
      type: 'webrtc.answer',
      cameraId: this.opts.cameraId,
      sdp: pc.localDescription?.sdp ?? answer.sdp ?? '',
    });
    if (this.wantTalking) {
      await this.setTalking(true).catch((error: unknown) =>
        this.opts.onTalk({ type: 'error', code: 'MICROPHONE', message: (error as Error).message }),
      );
    }
  }

  /** Puts the microphone on the peer connection and asks the server to open the camera's speaker. */
  async setTalking(on: boolean): Promise<void> {
    this.wantTalking = on;
    const sender = this.pc?.getTransceivers().find((t) => t.receiver.track.kind === 'audio')?.sender;
    if (on && !this.microphone && sender) {
      this.microphone = await navigator.mediaDevices.getUserMedia({ audio: true });
      this.send({ type: 'talk.start', cameraId: this.opts.cameraId });
      await sender.replaceTrack(this.microphone.getAudioTracks()[0] ?? null);
    } else if (!on && this.microphone) {
      this.send({ type: 'talk.stop', cameraId: this.opts.cameraId });
      this.microphone.getTracks().forEach((track) => track.stop());
      this.microphone = null;
      await sender?.replaceTrack(null);
    }
  }

  private closePeer(): void {
    this.microphone?.getTracks().forEach((track) => track.stop());
    this.microphone = null;
    this.pc?.close();
    this.pc = null;
    this.video.srcObject = null;
  }
}
