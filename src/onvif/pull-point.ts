import type { Logger } from 'pino';
import type { CameraDeviceEvent } from '../contract/onvif.js';
import { VigilError } from '../errors/catalogue.js';
import { OnvifDevice } from './device.js';
import type { Credentials } from './wsse.js';

/** A subscription lives this long on the device unless renewed: a Vigil that dies leaves none for long. */
export const SUBSCRIPTION_TERMINATION_S = 60;
/** Renewed when less than this is left. */
const RENEW_MARGIN_MS = 20_000;
/** How long one PullMessages waits on the device for something to happen. */
export const PULL_WAIT_S = 5;
const PULL_LIMIT = 20;
/** After a failure (device restarting, network gone): wait, then subscribe anew. */
export const RETRY_DELAY_MS = 10_000;

export interface PullPointOptions {
  cameraId: string;
  url: string;
  credentials: Credentials | null;
  onEvent: (event: CameraDeviceEvent) => void;
  log: Logger;
  nowMs?: () => number;
  retryDelayMs?: number;
}

/**
 * A camera's own events through an ONVIF PullPoint: subscribe, pull in a loop, renew before
 * the subscription ends, unsubscribe on stop. Any failure starts over after a delay.
 */
export class PullPointLoop {
  private stopped = false;
  private running: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(private readonly options: PullPointOptions) {}

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.session();
      } catch (err) {
        if (err instanceof VigilError && err.code === 'ONVIF_NOT_CONFIGURED') {
          // The device has no event service: asking again will not give it one.
          this.options.log.info({ camera: this.options.cameraId }, `ONVIF events: ${err.message}`);
          return;
        }
        this.options.log.warn(
          { camera: this.options.cameraId, err: (err as Error).message },
          'ONVIF events: subscription failed; retrying',
        );
        await this.pause(this.options.retryDelayMs ?? RETRY_DELAY_MS);
      }
    }
  }

  /** One subscription, until stop or a failure. */
  private async session(): Promise<void> {
    const nowMs = this.options.nowMs ?? Date.now;
    const device = new OnvifDevice(this.options.url, this.options.credentials, nowMs);
    await device.connect();
    const subscription = await device.subscribe(SUBSCRIPTION_TERMINATION_S);
    let endsMs = nowMs() + SUBSCRIPTION_TERMINATION_S * 1000;
    try {
      while (!this.stopped) {
        if (endsMs - nowMs() < RENEW_MARGIN_MS) {
          await device.renew(subscription.address, SUBSCRIPTION_TERMINATION_S);
          endsMs = nowMs() + SUBSCRIPTION_TERMINATION_S * 1000;
        }
        const events = await device.pull(
          subscription.address,
          this.options.cameraId,
          PULL_WAIT_S,
          PULL_LIMIT,
        );
        // Camera time to ours: the camera's clock may be off by the offset connect() measured.
        for (const event of events)
          this.options.onEvent({ ...event, timeMs: event.timeMs - device.offsetMs });
      }
    } finally {
      await device.unsubscribe(subscription.address).catch(() => undefined);
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
