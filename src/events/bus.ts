import type { Logger } from 'pino';
import type {
  CameraStatusChange,
  MotionChange,
  ObjectCounts,
  RecordingStopChange,
} from '../contract/push.js';
import type { AlertView } from '../contract/alerts.js';
import type { CameraDeviceEvent } from '../contract/onvif.js';
import type { SceneFact } from '../contract/scene.js';
import type { EventChange } from './types.js';

/** What travels on the bus, by channel. */
export interface BusMessages {
  event: EventChange;
  motion: MotionChange;
  camera: CameraStatusChange;
  objects: ObjectCounts;
  recording: RecordingStopChange;
  /** Zones entered and left, lines crossed, occupancy, camera health: what rules and counting read. */
  scene: SceneFact;
  /** A rule fired (src/rules): /api/ws tells the cameras' viewers. `reviewed` is false. */
  alert: AlertView;
  /** A camera's own events (ONVIF PullPoint): motion, tamper, line crossing, digital inputs. */
  'camera-event': CameraDeviceEvent;
}

export type BusChannel = keyof BusMessages;
export type BusListener<C extends BusChannel> = (message: BusMessages[C]) => void;

/**
 * The in-process bus between the event manager (and the camera manager) and whoever tells the
 * world: /api/ws, MQTT. A listener that throws is logged and the others still run, so a broken
 * consumer never stops events from being recorded.
 */
export class EventBus {
  private readonly listeners: { [C in BusChannel]: Set<BusListener<C>> } = {
    event: new Set(),
    motion: new Set(),
    camera: new Set(),
    objects: new Set(),
    recording: new Set(),
    scene: new Set(),
    alert: new Set(),
    'camera-event': new Set(),
  };

  constructor(private readonly log?: Logger) {}

  /** Returns the function that unsubscribes. */
  on<C extends BusChannel>(channel: C, listener: BusListener<C>): () => void {
    const set = this.listeners[channel] as Set<BusListener<C>>;
    set.add(listener);
    return () => set.delete(listener);
  }

  publish<C extends BusChannel>(channel: C, message: BusMessages[C]): void {
    for (const listener of [...(this.listeners[channel] as Set<BusListener<C>>)]) {
      try {
        listener(message);
      } catch (err) {
        this.log?.error({ err, channel }, 'event bus listener failed');
      }
    }
  }

  /** For the app layer: a camera stream changed state (fed from the camera manager). */
  cameraStatus(change: CameraStatusChange): void {
    this.publish('camera', change);
  }

  listenerCount(channel: BusChannel): number {
    return this.listeners[channel].size;
  }
}
