/**
 * MQTT against a real Mosquitto: the one on 127.0.0.1:1883 when it runs, else one this test
 * starts (the system's, as docs say, or a private one on a free port). Skipped, saying why, only
 * when no mosquitto binary exists. Topic prefixes are unique per run, so runs never collide.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { connect, type MqttClient } from 'mqtt';
import pino from 'pino';
import sharp from 'sharp';
import { EventBus } from '../../src/events/bus.js';
import type { RgbFrame, TrackObservation } from '../../src/events/event-manager.js';
import { MqttBridge } from '../../src/events/mqtt.js';
import type { EventStore } from '../../src/events/store.js';
import type { EventChange } from '../../src/events/types.js';
import { spawnTracked, stopChild, type TrackedChild } from '../helpers/children.js';
import { freePort } from '../helpers/cameras.js';
import { apiFetch, REPO_ROOT, startTestVigil, tempDir, type TestVigil, waitFor } from '../helpers/vigil.js';

const execFileAsync = promisify(execFile);
const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p));

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

interface Broker {
  url: string;
  stop(): Promise<void>;
}

/** A running broker, or the reason there cannot be one here. */
async function ensureBroker(): Promise<Broker | string> {
  if (await listening(1883)) return { url: 'mqtt://127.0.0.1:1883', stop: async () => undefined };
  if (!MOSQUITTO)
    return 'no Mosquitto broker on 127.0.0.1:1883 and no mosquitto binary (apt-get install mosquitto)';
  if (existsSync('/etc/mosquitto/mosquitto.conf')) {
    // The machine's own broker, as docs/environment.md starts it; it stays up for others.
    await execFileAsync(MOSQUITTO, ['-d', '-c', '/etc/mosquitto/mosquitto.conf']).catch(() => undefined);
    if (await waitFor('mosquitto on 1883', () => listening(1883), 5000, 100).catch(() => false)) {
      return { url: 'mqtt://127.0.0.1:1883', stop: async () => undefined };
    }
  }
  const port = await freePort();
  const conf = join(tempDir('vigil-mosquitto-'), 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  const child: TrackedChild = spawnTracked(MOSQUITTO, ['-c', conf], { deathSignal: 'TERM' });
  await waitFor(`mosquitto on ${port}`, () => listening(port), 10_000, 100);
  return { url: `mqtt://127.0.0.1:${port}`, stop: () => stopChild(child) };
}

/** A subscriber that keeps every message and the last payload per topic. */
class Recorder {
  readonly messages: Array<{ topic: string; payload: Buffer; retain: boolean }> = [];
  readonly last = new Map<string, Buffer>();
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      this.messages.push({ topic, payload, retain: packet.retain });
      this.last.set(topic, payload);
    });
  }

  static async open(url: string, topics: string[]): Promise<Recorder> {
    // MQTT 5 with retain-as-published, so the test sees which messages Vigil retains.
    const client = connect(url, { reconnectPeriod: 500, protocolVersion: 5 });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    const recorder = new Recorder(client);
    await client.subscribeAsync(topics, { qos: 1, rap: true });
    return recorder;
  }

  text(topic: string): string | undefined {
    return this.last.get(topic)?.toString('utf8');
  }

  waitText(topic: string, value: string, timeoutMs = 10_000): Promise<true> {
    return waitFor(
      `${topic} = ${value} (now ${this.text(topic)})`,
      () => this.text(topic) === value,
      timeoutMs,
      50,
    );
  }

  events(prefix: string): EventChange[] {
    return this.messages
      .filter((m) => m.topic === `${prefix}/events`)
      .map((m) => JSON.parse(m.payload.toString('utf8')) as EventChange);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

function frame(timeMs: number): RgbFrame {
  const width = 320;
  const height = 240;
  const data = new Uint8Array(width * height * 3).fill(100);
  return { data, width, height, timeMs };
}

function person(trackId: number, x: number): TrackObservation {
  return {
    trackId,
    label: 'person',
    score: 0.8,
    box: { x, y: 50, width: 30, height: 90 },
    confirmed: true,
    stationary: false,
  };
}

const broker = await ensureBroker();
const skip = typeof broker === 'string' ? broker : false;
const RUN = `${process.pid}-${Date.now().toString(36)}`;

describe('MQTT against Mosquitto', { timeout: 120_000, skip }, () => {
  const prefix = `vigil-test-${RUN}`;
  const discovery = `ha-test-${RUN}`;
  const node = `vigil_test_${RUN.replace(/-/g, '_')}_yard`;
  let url: string;
  let recorder: Recorder;
  let vigil: TestVigil;

  before(async () => {
    url = (broker as Broker).url;
    recorder = await Recorder.open(url, [`${prefix}/#`, `${discovery}/#`]);
    vigil = await startTestVigil(`
storage: { path: ./data, minFreeBytes: 1MB }
mqtt: { url: "${url}", topicPrefix: "${prefix}", discoveryPrefix: "${discovery}" }
cameras:
  - id: yard
    name: Yard
    streams:
      main: { url: "testsrc:?size=320x240&fps=5" }
    detect: { enabled: false, labels: [person, car] }
    privacy:
      masks: [{ id: corner, kind: liftable, polygon: [[0.7, 0.05], [0.95, 0.05], [0.95, 0.3], [0.7, 0.3]] }]
`);
  });

  after(async () => {
    await vigil?.close();
    // Leave the shared broker as we found it: clear what this run kept retained.
    for (const topic of recorder?.last.keys() ?? []) {
      await recorder.client.publishAsync(topic, '', { retain: true }).catch(() => undefined);
    }
    await recorder?.close();
    if (typeof broker !== 'string') await broker.stop();
  });

  test('availability online and Home Assistant discovery for each camera, states seeded', async () => {
    await recorder.waitText(`${prefix}/available`, 'online');
    const config = (component: string, objectId: string) =>
      waitFor(
        `${component}/${objectId} discovery`,
        () => recorder.last.get(`${discovery}/${component}/${node}/${objectId}/config`),
        10_000,
        50,
      ).then((payload) => JSON.parse(payload.toString('utf8')) as Record<string, unknown>);
    const motion = await config('binary_sensor', 'motion');
    assert.equal(motion['state_topic'], `${prefix}/yard/motion`);
    assert.equal(motion['device_class'], 'motion');
    assert.equal(motion['availability_topic'], `${prefix}/available`);
    assert.deepEqual((motion['device'] as Record<string, unknown>)['manufacturer'], 'Vigil');
    assert.deepEqual((motion['device'] as Record<string, unknown>)['name'], 'Yard');
    const count = await config('sensor', 'person_count');
    assert.equal(count['state_topic'], `${prefix}/yard/person`);
    assert.equal(count['state_class'], 'measurement');
    await config('binary_sensor', 'car_occupancy');
    const image = await config('image', 'snapshot');
    assert.equal(image['image_topic'], `${prefix}/yard/snapshot`);
    assert.equal(recorder.messages.find((m) => m.topic.endsWith('/motion/config'))?.retain, true);
    await recorder.waitText(`${prefix}/yard/motion`, 'OFF');
    await recorder.waitText(`${prefix}/yard/person`, '0');
    await recorder.waitText(`${prefix}/yard/car`, '0');
  });

  test('motion, counts, events and the snapshot follow the event manager', async () => {
    const events = vigil.events.manager;
    const start = Date.now() - 3000;
    events.motion('yard', true, start);
    await recorder.waitText(`${prefix}/yard/motion`, 'ON');
    for (let i = 0; i < 5; i += 1)
      events.observe('yard', frame(start + i * 200), [person(1, 20 + i * 4), person(2, 200)]);
    await recorder.waitText(`${prefix}/yard/person`, '2');
    const opened = await waitFor(
      'two new events',
      () =>
        recorder.events(prefix).filter((e) => e.type === 'new').length === 2
          ? recorder.events(prefix)
          : undefined,
      10_000,
      50,
    );
    assert.ok(opened.every((e) => e.after.cameraId === 'yard' && e.after.label === 'person'));
    const snapshot = await waitFor(
      'the snapshot',
      () => recorder.last.get(`${prefix}/yard/snapshot`),
      10_000,
      50,
    );
    const meta = await sharp(snapshot).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 320, 240]);
    // Every privacy mask is blacked out over MQTT, the liftable ones too: no one has a lift there.
    const { data: grey } = await sharp(snapshot).greyscale().raw().toBuffer({ resolveWithObject: true });
    const lumaAt = (x: number, y: number) => grey[Math.round(y * 240) * 320 + Math.round(x * 320)]!;
    assert.ok(lumaAt(0.82, 0.17) < 8, `inside the mask: ${lumaAt(0.82, 0.17)}`);
    assert.ok(Math.abs(lumaAt(0.3, 0.8) - 100) < 12, `outside the mask: ${lumaAt(0.3, 0.8)}`);
    assert.equal(recorder.messages.find((m) => m.topic === `${prefix}/yard/snapshot`)?.retain, true);
    assert.equal(recorder.messages.find((m) => m.topic === `${prefix}/events`)?.retain, false);
    events.trackEnded('yard', 1, start + 1000);
    await recorder.waitText(`${prefix}/yard/person`, '1');
    events.trackEnded('yard', 2, start + 1000);
    await recorder.waitText(`${prefix}/yard/person`, '0');
    events.motion('yard', false, start + 1500);
    await recorder.waitText(`${prefix}/yard/motion`, 'OFF');
    // The cool-down passes on the wall clock.
    const ended = await waitFor(
      'two ended events',
      () => {
        const list = recorder.events(prefix).filter((e) => e.type === 'end');
        return list.length === 2 ? list : undefined;
      },
      15_000,
      100,
    );
    assert.ok(ended.every((e) => e.after.endTimeMs !== null && e.before !== null));
  });

  test('cameras added and removed at run time appear in and leave Home Assistant', async () => {
    const gateNode = node.replace(/_yard$/, '_gate');
    const topic = `${discovery}/binary_sensor/${gateNode}/motion/config`;
    const added = await apiFetch(`${vigil.url}/api/cameras`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'gate', streams: { main: { url: 'testsrc:?size=320x240&fps=5' } } }),
    });
    assert.equal(added.status, 201);
    vigil.events.syncCameras();
    await waitFor('gate discovery', () => (recorder.last.get(topic)?.length ?? 0) > 0, 10_000, 50);
    assert.equal((await apiFetch(`${vigil.url}/api/cameras/gate`, { method: 'DELETE' })).status, 204);
    vigil.events.syncCameras();
    await waitFor('gate discovery cleared', () => recorder.last.get(topic)?.length === 0, 10_000, 50);
    assert.equal(recorder.last.get(`${prefix}/gate/motion`)?.length, 0);
  });

  test('a lost connection sends the last will, then Vigil reconnects and is online again', async () => {
    // The socket dies without a DISCONNECT, as when the network drops: the broker sends the will.
    const bridge = vigil.events.mqtt as unknown as { client: { stream: { destroy(): void } } };
    bridge.client.stream.destroy();
    await recorder.waitText(`${prefix}/available`, 'offline');
    await recorder.waitText(`${prefix}/available`, 'online', 20_000);
    // Retained state is published again on reconnect.
    await recorder.waitText(`${prefix}/yard/person`, '0');
  });

  test('a Vigil killed with SIGKILL leaves "offline" (retained) through its last will', async () => {
    const killedPrefix = `${prefix}/killed`;
    const script = join(tempDir('vigil-mqtt-child-'), 'bridge.ts');
    writeFileSync(
      script,
      // A script outside the checkout resolves no packages: the log is a stub.
      `const log = { info() {}, warn() {}, error() {}, debug() {} };
import { EventBus } from '${REPO_ROOT}/src/events/bus.ts';
import { MqttBridge } from '${REPO_ROOT}/src/events/mqtt.ts';
const bridge = new MqttBridge({
  config: { url: '${url}', topicPrefix: '${killedPrefix}', discoveryPrefix: '${discovery}' },
  bus: new EventBus(), store: {} as never, log: log as never, version: 'test',
});
bridge.start();
const timer = setInterval(() => { if (bridge.connected) { console.log('connected'); clearInterval(timer); } }, 20);
setInterval(() => undefined, 1000);
`,
    );
    let connected = false;
    const child = spawnTracked(process.execPath, ['--import', 'tsx', script], {
      deathSignal: 'KILL',
      onStdoutLine: (line) => {
        if (line === 'connected') connected = true;
      },
    });
    try {
      await waitFor('the child to connect', () => connected, 20_000, 50);
      await recorder.waitText(`${killedPrefix}/available`, 'online');
      child.process.kill('SIGKILL');
      await recorder.waitText(`${killedPrefix}/available`, 'offline');
      // Retained too: a subscriber arriving later reads "offline".
      const late = await Recorder.open(url, [`${killedPrefix}/available`]);
      await late.waitText(`${killedPrefix}/available`, 'offline');
      assert.equal(late.messages[0]?.retain, true);
      await late.close();
    } finally {
      await stopChild(child);
    }
  });

  test('closing Vigil says offline', async () => {
    await vigil.close();
    await recorder.waitText(`${prefix}/available`, 'offline');
  });
});

describe('MQTT broker unreachable', { timeout: 60_000 }, () => {
  test('a clear log line without the password, retries, and Vigil keeps running', async () => {
    const port = await freePort();
    let logged = '';
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged += chunk.toString();
        done();
      },
    });
    const bridge = new MqttBridge({
      config: {
        url: `mqtt://127.0.0.1:${port}`,
        topicPrefix: 'vigil-unreachable',
        discoveryPrefix: 'homeassistant',
        user: 'vigil',
        password: 'pa55-w0rd-secret',
      },
      bus: new EventBus(),
      store: {} as EventStore,
      log: pino({ level: 'debug' }, sink),
      version: 'test',
      reconnectPeriodMs: 200,
    });
    bridge.start();
    bridge.syncCameras([{ id: 'yard', name: 'Yard', labels: ['person'] }]);
    await waitFor('the log line', () => /unreachable/.test(logged), 10_000, 50);
    assert.match(logged, new RegExp(`MQTT broker mqtt://127.0.0.1:${port} unreachable`));
    assert.equal(bridge.connected, false);
    await bridge.close();
    assert.equal(logged.includes('pa55-w0rd-secret'), false);
    assert.equal((logged.match(/unreachable \(/g) ?? []).length, 1, 'one line per outage, not per retry');

    const vigil = await startTestVigil(`
storage: { path: ./data, minFreeBytes: 1MB }
mqtt: { url: "mqtt://127.0.0.1:${port}", password: "x", user: "y" }
`);
    try {
      const health = await apiFetch(`${vigil.url}/api/health`);
      assert.equal(health.status, 200);
      assert.equal(vigil.events.mqtt?.connected, false);
    } finally {
      await vigil.close();
    }
  });
});
