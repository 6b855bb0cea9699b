import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { MqttConfig } from '../config/index.js';
import type { EventBus } from './bus.js';
import {
  PAYLOAD_OFF,
  PAYLOAD_OFFLINE,
  PAYLOAD_ON,
  PAYLOAD_ONLINE,
  alertsTopic,
  availabilityTopic,
  countTopic,
  discoveryId,
  discoveryMessages,
  eventsTopic,
  motionTopic,
  removalMessages,
  snapshotTopic,
  type MqttCamera,
  type MqttMessage,
  type MqttNames,
} from './mqtt-topics.js';
import { snapshotPaths, type EventStore } from './store.js';
import type { AlertView } from '../contract/alerts.js';
import type { EventChange } from './types.js';

export interface MqttBridgeOptions {
  config: MqttConfig;
  bus: EventBus;
  /** Reads snapshot files for the snapshot topic. */
  store: EventStore;
  log: Logger;
  version: string;
  /** Wait between reconnection attempts. */
  reconnectPeriodMs?: number;
  /** Blacks out the camera's privacy masks in a snapshot before it is published. */
  maskSnapshot?: (cameraId: string, jpeg: Buffer) => Promise<Buffer>;
}

const DEFAULT_RECONNECT_PERIOD_MS = 5000;
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Publishes the event bus to an MQTT broker, with Home Assistant discovery. Retained state
 * (availability, motion, counts, the last snapshot, discovery) is also kept here and published
 * again on every connection, so a broker restarted without persistence is whole again at once.
 * While the broker is away nothing is queued: events of that time are not sent, the state is.
 * Nothing here throws into the caller, and no log line carries the password.
 */
export class MqttBridge {
  private client: MqttClient | null = null;
  private readonly names: MqttNames;
  private readonly cameras = new Map<string, MqttCamera>();
  private readonly retained = new Map<string, MqttMessage>();
  private readonly unsubscribe: Array<() => void> = [];
  private unreachableLogged = false;
  private closed = false;

  constructor(private readonly options: MqttBridgeOptions) {
    this.names = {
      topicPrefix: options.config.topicPrefix,
      discoveryPrefix: options.config.discoveryPrefix,
      version: options.version,
    };
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Connects in the background; an unreachable broker is logged and retried, never fatal. */
  start(): void {
    const { config, log } = this.options;
    const prefix = config.topicPrefix;
    const clientOptions: IClientOptions = {
      clientId: `vigil-${discoveryId(prefix)}-${randomBytes(4).toString('hex')}`,
      ...(config.user !== undefined ? { username: config.user } : {}),
      ...(config.password !== undefined ? { password: config.password } : {}),
      will: { topic: availabilityTopic(prefix), payload: Buffer.from(PAYLOAD_OFFLINE), retain: true, qos: 1 },
      reconnectPeriod: this.options.reconnectPeriodMs ?? DEFAULT_RECONNECT_PERIOD_MS,
      connectTimeout: CONNECT_TIMEOUT_MS,
      // State is republished on connect; a backlog of stale messages helps nobody.
      queueQoSZero: false,
      clean: true,
    };
    const client = connect(config.url, clientOptions);
    this.client = client;
    client.on('connect', () => {
      if (this.unreachableLogged) log.info({ url: config.url }, 'MQTT broker reachable again');
      else log.info({ url: config.url, topicPrefix: prefix }, 'connected to the MQTT broker');
      this.unreachableLogged = false;
      this.onConnect();
    });
    client.on('error', (err) => this.reportUnreachable(err.message));
    client.on('offline', () => this.reportUnreachable('connection lost'));
    this.unsubscribe.push(
      this.options.bus.on('event', (change) => this.onEvent(change)),
      this.options.bus.on('motion', (m) =>
        this.publishState(motionTopic(prefix, m.cameraId), m.active ? PAYLOAD_ON : PAYLOAD_OFF),
      ),
      this.options.bus.on('objects', (o) => {
        for (const [label, count] of Object.entries(o.counts)) {
          this.publishState(countTopic(prefix, o.cameraId, label), String(count));
        }
      }),
    );
  }

  /**
   * The cameras to announce: discovery for new or changed ones, removal (empty retained
   * messages) for those gone. Cheap to call often: unchanged cameras publish nothing.
   */
  syncCameras(list: readonly MqttCamera[]): void {
    const next = new Map(list.map((camera) => [camera.id, camera]));
    for (const [id, camera] of this.cameras) {
      if (next.has(id)) continue;
      this.cameras.delete(id);
      for (const message of removalMessages(this.names, camera)) {
        this.retained.delete(message.topic);
        this.publish(message);
      }
    }
    for (const camera of next.values()) {
      const known = this.cameras.get(camera.id);
      if (known && JSON.stringify(known) === JSON.stringify(camera)) continue;
      if (known) {
        // Topics of the old definition the new one lacks (labels dropped) are cleared.
        const kept = new Set(removalMessages(this.names, camera).map((m) => m.topic));
        for (const message of removalMessages(this.names, known)) {
          if (kept.has(message.topic)) continue;
          this.retained.delete(message.topic);
          this.publish(message);
        }
      }
      this.cameras.set(camera.id, { ...camera, labels: [...camera.labels] });
      for (const message of discoveryMessages(this.names, camera)) this.publish(message);
      // Entities start known (no motion, nobody there) rather than "unknown".
      const prefix = this.names.topicPrefix;
      this.seedState(motionTopic(prefix, camera.id), PAYLOAD_OFF);
      for (const label of camera.labels) this.seedState(countTopic(prefix, camera.id, label), '0');
    }
  }

  /**
   * An alert of a rule with the `mqtt` action, as JSON on `<prefix>/alerts/<camera>` (QoS 1, not
   * retained: an alert is a moment, not a state). Dropped while the broker is away, like events.
   */
  publishAlert(alert: AlertView): void {
    const { reviewed: _reviewed, ...payload } = alert;
    this.publish({
      topic: alertsTopic(this.names.topicPrefix, alert.cameraId),
      payload: JSON.stringify(payload),
      retain: false,
      qos: 1,
    });
  }

  /** Says goodbye (offline, retained) and disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.unsubscribe) off();
    const client = this.client;
    if (!client) return;
    if (client.connected) {
      await new Promise<void>((resolve) => {
        client.publish(
          availabilityTopic(this.names.topicPrefix),
          PAYLOAD_OFFLINE,
          { retain: true, qos: 1 },
          () => resolve(),
        );
        setTimeout(resolve, 2000).unref();
      });
    }
    await client.endAsync(true).catch(() => undefined);
  }

  private reportUnreachable(reason: string): void {
    if (this.closed || this.unreachableLogged) return;
    this.unreachableLogged = true;
    this.options.log.warn(
      { url: this.options.config.url, reason },
      `MQTT broker ${this.options.config.url} unreachable (${reason}); retrying every ` +
        `${Math.round((this.options.reconnectPeriodMs ?? DEFAULT_RECONNECT_PERIOD_MS) / 1000)} s, Vigil goes on without it`,
    );
  }

  private onConnect(): void {
    this.publish({
      topic: availabilityTopic(this.names.topicPrefix),
      payload: PAYLOAD_ONLINE,
      retain: true,
      qos: 1,
    });
    for (const camera of this.cameras.values()) {
      for (const message of discoveryMessages(this.names, camera)) this.publish(message);
    }
    for (const message of this.retained.values()) this.publish(message);
  }

  private onEvent(change: EventChange): void {
    const prefix = this.names.topicPrefix;
    this.publish({ topic: eventsTopic(prefix), payload: JSON.stringify(change), retain: false, qos: 0 });
    const snapshot = change.after.snapshot;
    if (snapshot && snapshot.timeMs !== change.before?.snapshot?.timeMs) {
      void this.publishSnapshot(change);
    }
  }

  private async publishSnapshot(change: EventChange): Promise<void> {
    try {
      const path = this.options.store.absolute(snapshotPaths(change.after).frame);
      const raw = await readFile(path);
      const { maskSnapshot } = this.options;
      const jpeg = maskSnapshot ? await maskSnapshot(change.after.cameraId, raw) : raw;
      this.publishState(snapshotTopic(this.names.topicPrefix, change.after.cameraId), jpeg);
    } catch (err) {
      this.options.log.warn(
        { err: (err as Error).message, event: change.after.id },
        'MQTT: cannot read snapshot',
      );
    }
  }

  private seedState(topic: string, payload: string): void {
    if (!this.retained.has(topic)) this.publishState(topic, payload);
  }

  private publishState(topic: string, payload: string | Buffer): void {
    const message: MqttMessage = { topic, payload, retain: true, qos: 0 };
    this.retained.set(topic, message);
    this.publish(message);
  }

  private publish(message: MqttMessage): void {
    const client = this.client;
    // Offline: drop. Retained state goes out again on connect; events of the outage are lost.
    if (!client?.connected || this.closed) return;
    try {
      client.publish(message.topic, message.payload, { retain: message.retain, qos: message.qos }, (err) => {
        if (err) this.options.log.debug({ topic: message.topic, err: err.message }, 'MQTT publish failed');
      });
    } catch (err) {
      this.options.log.debug({ topic: message.topic, err: (err as Error).message }, 'MQTT publish failed');
    }
  }
}
