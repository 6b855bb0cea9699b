import type { Logger } from 'pino';
import type { MqttConfig } from '../config/index.js';
import type { Db } from '../storage/db.js';
import type { SegmentIndex } from '../storage/segment-index.js';
import type { Clock } from '../time/clock.js';
import { EventBus } from './bus.js';
import { EventManager, type EventCameraSettings } from './event-manager.js';
import { MqttBridge } from './mqtt.js';
import type { MqttCamera } from './mqtt-topics.js';
import { EventRetention } from './retention.js';
import { EventStore } from './store.js';

export { EventBus } from './bus.js';
export { EventManager } from './event-manager.js';
export type { RgbFrame, TrackObservation, EventCameraSettings } from './event-manager.js';
export { EventStore } from './store.js';
export type { MqttCamera } from './mqtt-topics.js';

export interface EventServicesOptions {
  db: Db;
  index: SegmentIndex;
  storageRoot: string;
  clock: Clock;
  log: Logger;
  /** retention.eventsDays */
  eventsDays: number;
  /** How often expired events are deleted and the MQTT camera list is checked (retention.checkIntervalMs). */
  checkIntervalMs: number;
  /** Detection settings of a camera (detectConfigFor), undefined for an unknown one. */
  cameraSettings(cameraId: string): EventCameraSettings | undefined;
  /** The cameras to announce over MQTT, read on every check: cameras added or removed at run time follow. */
  mqttCameras(): MqttCamera[];
  /** Undefined: MQTT off. */
  mqtt?: MqttConfig;
  /**
   * Blacks out a camera's privacy masks in a snapshot before it is published over MQTT, where no
   * one has a lift: every mask applies. Absent: snapshots go as they are.
   */
  maskSnapshot?: (cameraId: string, jpeg: Buffer) => Promise<Buffer>;
  version: string;
}

/** The events subsystem as the app holds it. */
export interface EventServices {
  bus: EventBus;
  store: EventStore;
  /** What the detection pipeline calls: observe(), trackEnded(), motion(). */
  manager: EventManager;
  retention: EventRetention;
  /** Null when MQTT is off. */
  mqtt: MqttBridge | null;
  /** Announces the cameras over MQTT now (after start-up and camera changes); also runs on a timer. */
  syncCameras(): void;
  close(): Promise<void>;
}

/**
 * Starts the events subsystem: ends events a crash left open, deletes expired ones, starts
 * event retention and (when configured) MQTT.
 */
export async function startEvents(options: EventServicesOptions): Promise<EventServices> {
  const { log } = options;
  const bus = new EventBus(log.child({ component: 'event-bus' }));
  const store = new EventStore(options.db, {
    storageRoot: options.storageRoot,
    index: options.index,
    eventsDays: options.eventsDays,
  });
  const manager = new EventManager({
    store,
    bus,
    clock: options.clock,
    log: log.child({ component: 'events' }),
    cameraSettings: options.cameraSettings,
  });
  const recovered = await manager.recover();
  if (recovered > 0) log.info({ eventCount: recovered }, 'ended events left open by the last run');
  const retention = new EventRetention(
    store,
    options.clock,
    log.child({ component: 'event-retention' }),
    options.checkIntervalMs,
  );
  await retention.runNow();
  retention.start();
  const mqtt = options.mqtt
    ? new MqttBridge({
        config: options.mqtt,
        bus,
        store,
        log: log.child({ component: 'mqtt' }),
        version: options.version,
        ...(options.maskSnapshot ? { maskSnapshot: options.maskSnapshot } : {}),
      })
    : null;
  const syncCameras = () => {
    try {
      mqtt?.syncCameras(options.mqttCameras());
    } catch (err) {
      log.error({ err }, 'MQTT: cannot list cameras');
    }
  };
  let cameraTimer: NodeJS.Timeout | null = null;
  if (mqtt) {
    mqtt.start();
    syncCameras();
    cameraTimer = setInterval(syncCameras, options.checkIntervalMs);
    cameraTimer.unref();
  }
  return {
    bus,
    store,
    manager,
    retention,
    mqtt,
    syncCameras,
    close: async () => {
      if (cameraTimer) clearInterval(cameraTimer);
      await manager.close();
      await retention.stop();
      await mqtt?.close();
    },
  };
}
