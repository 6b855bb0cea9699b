import { RtspBackchannel, type BackchannelTarget, type G711Codec } from './backchannel.js';
import { TalkTranscoder } from './talk-transcoder.js';

/** How long the camera may take to set up its backchannel. */
const OPEN_TIMEOUT_MS = 10_000;

/**
 * One person talking through one camera: the browser's Opus, transcoded to the codec the camera
 * asked for, sent on its backchannel. Ends when stopped or when the camera drops the backchannel.
 */
export class TalkSession {
  private stopped = false;

  private constructor(
    private readonly backchannel: RtspBackchannel,
    private readonly transcoder: TalkTranscoder,
    readonly codec: G711Codec,
  ) {}

  static async start(opts: {
    target: BackchannelTarget;
    ffmpegPath: string;
    /** The camera dropped the backchannel (not called after stop()). */
    onEnded: (error: Error | null) => void;
  }): Promise<TalkSession> {
    let session: TalkSession | null = null;
    const backchannel = new RtspBackchannel(opts.target, (error) => {
      if (session && !session.stopped) {
        session.stop();
        opts.onEnded(error);
      }
    });
    try {
      await backchannel.open(OPEN_TIMEOUT_MS);
    } catch (error) {
      backchannel.close();
      throw error;
    }
    const codec = backchannel.codec ?? 'PCMU';
    const transcoder = new TalkTranscoder(opts.ffmpegPath, codec, backchannel.clockRate, (samples) =>
      backchannel.send(samples),
    );
    await transcoder.start();
    session = new TalkSession(backchannel, transcoder, codec);
    return session;
  }

  /** One RTP packet of the browser's microphone (Opus). */
  push(packet: Buffer): void {
    if (!this.stopped) this.transcoder.push(packet);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.transcoder.stop();
    this.backchannel.close();
  }
}
