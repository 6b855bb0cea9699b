import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import sharp from 'sharp';
import WebSocket from 'ws';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { brokerMissing, startBroker, type TestBroker } from '../helpers/mqtt-broker.js';
import { sharedFootageDir } from '../helpers/footage.js';
import { apiFetch, startTestVigil, tempDir, type TestVigil, waitFor } from '../helpers/vigil.js';
import { FFPROBE } from '../helpers/media-tools.js';

const execFileAsync = promisify(execFile);
const FOOTAGE = sharedFootageDir();
const NEEDS_PEOPLE =
  'needs real people in the picture (../shared/footage vtest and tree); generated footage has none';
const footage = (name: string) => (FOOTAGE ? join(FOOTAGE, name) : '');
const available =
  FOOTAGE !== null &&
  ['vtest-main.mp4', 'vtest-sub.mp4', 'tree-sub.mp4'].every((f) => existsSync(footage(f)));

interface EventView {
  id: number;
  cameraId: string;
  label: string;
  startTimeMs: number;
  endTimeMs: number | null;
  maxScore: number;
  box: { x: number; y: number; width: number; height: number };
}

const skipReason = available ? await brokerMissing() : NEEDS_PEOPLE;

describe(
  'analytics on real footage: emulator → ingest → analytics → events → API, WebSocket, MQTT',
  {
    skip: skipReason ?? false,
    timeout: 240_000,
  },
  () => {
    let people: TestCameras;
    let tree: TestCameras;
    let vigil: TestVigil;
    let subscriber: mqtt.MqttClient;
    let socket: WebSocket;
    const prefix = `vigil_test_${process.pid}_${Date.now()}`;
    const received = new Map<string, Buffer[]>();
    const wsMessages: Array<{
      type: string;
      kind?: string;
      after?: EventView;
      cameraId?: string;
      active?: boolean;
    }> = [];
    const receivedAtMs = new Map<string, number>();
    let startedAtMs = 0;

    let broker: TestBroker;

    before(async () => {
      broker = await startBroker();
      people = await startCameras({
        count: 1,
        footage: { main: footage('vtest-main.mp4'), sub: footage('vtest-sub.mp4') },
      });
      tree = await startCameras({
        count: 1,
        footage: { main: footage('tree-sub.mp4'), sub: footage('tree-sub.mp4') },
      });
      subscriber = mqtt.connect(broker.url);
      await new Promise<void>((resolve) => subscriber.once('connect', () => resolve()));
      await subscriber.subscribeAsync([`${prefix}/#`, 'homeassistant/#']);
      subscriber.on('message', (topic, payload) => {
        if (!topic.startsWith(prefix) && !payload.toString().includes(prefix)) return;
        const list = received.get(topic) ?? [];
        list.push(payload);
        received.set(topic, list);
        if (!receivedAtMs.has(topic)) receivedAtMs.set(topic, Date.now());
      });
      const dir = tempDir();
      writeFileSync(join(dir, 'unused'), '');
      startedAtMs = Date.now();
      vigil = await startTestVigil(
        `
storage: { path: ./data, minFreeBytes: 1MB }
mqtt: { url: "${broker.url}", topicPrefix: ${prefix} }
cameras:
  - id: path
    name: Campus path
    streams:
      main: { url: "${people.urls(1).main}" }
      sub: { url: "${people.urls(1).sub}" }
  - id: tree
    name: Tree
    streams:
      main: { url: "${tree.urls(1).main}" }
      sub: { url: "${tree.urls(1).sub}" }
`,
        dir,
      );
      socket = new WebSocket(`${vigil.url.replace('http', 'ws')}/api/ws`, {
        headers: { authorization: `Bearer ${vigil.token}` },
      });
      socket.on('message', (data) => wsMessages.push(JSON.parse(String(data))));
      await new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
      });
    });

    after(async () => {
      socket?.close();
      await vigil?.close();
      await subscriber?.endAsync();
      await people?.stop();
      await tree?.stop();
    });

    test('people walking on the path become person events with a snapshot, a clip and live pushes', async (t: TestContext) => {
      const events = await waitFor(
        'a person event on the path camera',
        async () => {
          const res = await apiFetch(`${vigil.url}/api/events?camera=path&label=person`);
          const body = (await res.json()) as { events: EventView[] };
          return body.events.length > 0 ? body.events : undefined;
        },
        90_000,
        500,
      );
      const first = events.at(-1) as EventView;
      t.diagnostic(
        `first person event ${first.startTimeMs - startedAtMs} ms after start-up, score ${first.maxScore}`,
      );
      assert.equal(first.label, 'person');
      assert.ok(first.maxScore >= 0.5);
      assert.ok(first.box.width > 0 && first.box.width < 0.5, 'a person is a part of the picture');

      // The snapshot is rendered on the event manager's queue, a moment after the event exists.
      const snapshot = await waitFor(
        'the event snapshot',
        async () => {
          const res = await apiFetch(`${vigil.url}/api/events/${first.id}/snapshot.jpg`);
          return res.status === 200 ? res : undefined;
        },
        10_000,
      );
      assert.equal(snapshot.headers.get('content-type'), 'image/jpeg');
      const meta = await sharp(Buffer.from(await snapshot.arrayBuffer())).metadata();
      assert.equal(meta.format, 'jpeg');
      assert.equal(meta.width, 640, 'the snapshot is a whole analysed frame of the sub stream');
      const crop = await apiFetch(`${vigil.url}/api/events/${first.id}/snapshot.jpg?crop=1`);
      assert.equal(crop.status, 200);

      // The clip is the pre-capture and the event so far: an event found within seconds of start-up
      // (a fast detector) has less recording before it, so the clip is read until it has grown.
      const dir = tempDir();
      const clipPath = join(dir, 'clip.mp4');
      const clipSeconds = async (): Promise<number> => {
        const clip = await apiFetch(`${vigil.url}/api/events/${first.id}/clip.mp4`);
        assert.equal(clip.status, 200);
        writeFileSync(clipPath, Buffer.from(await clip.arrayBuffer()));
        const { stdout } = await execFileAsync(FFPROBE, [
          '-v',
          'error',
          '-show_entries',
          'format=duration',
          '-of',
          'csv=p=0',
          clipPath,
        ]);
        return Number(stdout.trim());
      };
      const durationS = await waitFor(
        'a clip of the pre-capture and the event, 4 s or more',
        async () => {
          const seconds = await clipSeconds();
          return seconds >= 4 ? seconds : undefined;
        },
        20_000,
        1000,
      );
      t.diagnostic(`clip ${durationS.toFixed(1)} s`);

      const pushed = wsMessages.find((m) => m.type === 'event' && m.after?.cameraId === 'path');
      assert.ok(pushed, 'the WebSocket pushed the event');
      const mqttEvent = received
        .get(`${prefix}/events`)
        ?.map((b) => JSON.parse(b.toString()) as { after: EventView });
      assert.ok(
        mqttEvent?.some((e) => e.after.cameraId === 'path' && e.after.label === 'person'),
        'MQTT got the event',
      );
      const publishedAt = receivedAtMs.get(`${prefix}/events`);
      if (publishedAt)
        t.diagnostic(`MQTT event ${publishedAt - first.startTimeMs} ms after the first frame of the person`);
      assert.equal(received.get(`${prefix}/available`)?.at(-1)?.toString(), 'online');
      await waitFor(
        'motion ON for the path camera',
        () => received.get(`${prefix}/path/motion`)?.some((b) => b.toString() === 'ON'),
        10_000,
      );
      await waitFor('a person count', () => received.has(`${prefix}/path/person`), 10_000);
      await waitFor(
        'the snapshot topic',
        () => (received.get(`${prefix}/path/snapshot`)?.at(-1)?.length ?? 0) > 1000,
        20_000,
      );
      const discovery = [...received.keys()].filter(
        (k) => k.startsWith('homeassistant/') && k.endsWith('/config'),
      );
      assert.ok(
        discovery.some((k) => k.includes('binary_sensor') && k.includes('path')),
        'motion sensor discovered',
      );
      assert.ok(
        discovery.some((k) => k.startsWith('homeassistant/sensor/') && k.includes('person')),
        'person count discovered',
      );
    });

    test('the tree in the wind makes motion but no person or vehicle event', async (t: TestContext) => {
      const status = await waitFor(
        'thirty seconds of analysed tree frames',
        async () => {
          const res = await apiFetch(`${vigil.url}/api/cameras/tree/analytics`);
          const body = (await res.json()) as {
            status: { framesAnalysed: number; detectionRuns: number } | null;
          };
          return (body.status?.framesAnalysed ?? 0) >= 150 ? body.status : undefined;
        },
        90_000,
        1000,
      );
      t.diagnostic(`tree: ${status?.framesAnalysed} frames analysed, ${status?.detectionRuns} detector runs`);
      assert.ok((status?.detectionRuns ?? 0) > 0, 'the moving tree was looked at by the detector');
      const res = await apiFetch(`${vigil.url}/api/events?camera=tree`);
      const body = (await res.json()) as { events: EventView[] };
      assert.deepEqual(
        body.events.map((e) => e.label),
        [],
        'no events from a tree',
      );
      assert.ok(
        wsMessages.some((m) => m.type === 'motion' && m.cameraId === 'tree' && m.active === true) ||
          received.get(`${prefix}/tree/motion`)?.some((b) => b.toString() === 'ON'),
        'the tree made motion',
      );
    });
  },
);
