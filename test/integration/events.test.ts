import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import WebSocket from 'ws';
import { vigilVersion } from '../../src/app/vigil.js';
import type { RgbFrame, TrackObservation } from '../../src/events/event-manager.js';
import type { EventView, EventsPage } from '../../src/contract/events.js';
import type { WsServerMessage } from '../../src/contract/push.js';
import { apiFetch, startTestVigil, type TestVigil, waitFor } from '../helpers/vigil.js';
import { FFPROBE } from '../helpers/media-tools.js';

const execFileAsync = promisify(execFile);

interface ApiError {
  error: { code: string; message: string };
}

/** A /api/ws client that keeps every message it gets. */
class WsClient {
  readonly messages: WsServerMessage[] = [];
  readonly socket: WebSocket;
  private constructor(url: string, token: string | null) {
    this.socket = new WebSocket(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    this.socket.on('message', (data) => this.messages.push(JSON.parse(data.toString()) as WsServerMessage));
  }

  static async open(baseUrl: string, token: string | null): Promise<WsClient> {
    const client = new WsClient(`${baseUrl.replace(/^http/, 'ws')}/api/ws`, token);
    await new Promise<void>((resolve, reject) => {
      client.socket.once('open', () => resolve());
      client.socket.once('error', reject);
    });
    return client;
  }

  of<T extends WsServerMessage['type']>(type: T): Extract<WsServerMessage, { type: T }>[] {
    return this.messages.filter((m): m is Extract<WsServerMessage, { type: T }> => m.type === type);
  }

  close(): void {
    this.socket.close();
  }
}

function track(trackId: number, label: string, x: number, overrides: Partial<TrackObservation> = {}) {
  return {
    trackId,
    label,
    score: 0.75,
    box: { x, y: 120, width: 60, height: 160 },
    confirmed: true,
    stationary: false,
    ...overrides,
  };
}

describe('events through the API, /api/ws and the recording', { timeout: 180_000 }, () => {
  let vigil: TestVigil;
  let frame: Omit<RgbFrame, 'timeMs'>;
  let ws: WsClient;
  let filtered: WsClient;
  let person: EventView;
  let car: EventView;

  async function call(method: string, path: string, headers: Record<string, string> = {}) {
    const res = await apiFetch(`${vigil.url}${path}`, { method, headers });
    const bytes = Buffer.from(await res.arrayBuffer());
    const text = res.headers.get('content-type')?.includes('json') ? bytes.toString('utf8') : '';
    return {
      status: res.status,
      headers: res.headers,
      bytes,
      json: text ? (JSON.parse(text) as unknown) : null,
    };
  }

  async function page(query: string): Promise<EventsPage> {
    const res = await call('GET', `/api/events${query}`);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    return res.json as EventsPage;
  }

  /** Frames 200 ms apart ending `endAgoMs` before now, `at(i)` giving the tracks of frame i. */
  function feed(frames: number, endAgoMs: number, at: (i: number) => TrackObservation[]): number {
    const lastMs = Date.now() - endAgoMs;
    for (let i = 0; i < frames; i += 1) {
      vigil.events.manager.observe('yard', { ...frame, timeMs: lastMs - (frames - 1 - i) * 200 }, at(i));
    }
    return lastMs;
  }

  before(async () => {
    vigil = await startTestVigil(`
storage: { path: ./data, minFreeBytes: 1MB }
recording: { segmentDurationMs: 4000 }
cameras:
  - id: yard
    streams:
      main: { url: "testsrc:?size=640x480&fps=10" }
    # The pipeline stays off: this test plays the pipeline's part with its own tracks.
    detect: { enabled: false, labels: [person, car], preCaptureMs: 3000, postCaptureMs: 2000 }
`);
    // A real decoded frame of the camera, as the pipeline would hand it over.
    const jpeg = await waitFor(
      'a snapshot of the camera',
      async () => {
        const res = await apiFetch(`${vigil.url}/api/cameras/yard/snapshot.jpg`);
        return res.status === 200 ? Buffer.from(await res.arrayBuffer()) : undefined;
      },
      30_000,
    );
    // Events start up to 8 s in the past with a 3 s pre-capture: let the recording reach back that far.
    await waitFor(
      '12 s of recording',
      async () => {
        const res = await call('GET', '/api/cameras/yard/recordings');
        const spans = (res.json as { recordings: Array<{ durationMs: number }> }).recordings;
        return spans.some((s) => s.durationMs >= 12_000);
      },
      40_000,
    );
    const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    frame = { data: new Uint8Array(data), width: info.width, height: info.height };
    ws = await WsClient.open(vigil.url, vigil.token);
    filtered = await WsClient.open(vigil.url, vigil.token);
    filtered.socket.send(JSON.stringify({ type: 'subscribe', cameras: ['elsewhere'] }));
    await waitFor('the subscription', () => filtered.of('subscribed').length === 1, 5000, 20);
  });

  after(async () => {
    ws?.close();
    filtered?.close();
    await vigil?.close();
  });

  test('tracks become events: new, updates, end after the cool-down, pushed on /api/ws', async () => {
    assert.deepEqual(ws.messages[0], { type: 'hello', version: vigilVersion() });
    vigil.events.manager.motion('yard', true, Date.now());
    // A person walks across for 3 s; a dog (not watched) and a parked car (stationary) do not count
    // as events; then a car drives through elsewhere.
    const personLastMs = feed(16, 4000, (i) => [
      track(1, 'person', 40 + i * 20, { score: 0.6 + i * 0.02 }),
      track(2, 'dog', 500, {}),
      track(3, 'car', 400, { stationary: true }),
    ]);
    vigil.events.manager.trackEnded('yard', 1, personLastMs + 600);
    const carLastMs = feed(8, 1500, (i) => [
      track(4, 'car', 300 - i * 10, { box: { x: 300, y: 300, width: 200, height: 100 } }),
    ]);
    vigil.events.manager.trackEnded('yard', 4, carLastMs + 600);
    vigil.events.manager.motion('yard', false, Date.now());
    const ends = await waitFor(
      'two ended events',
      () => (ws.of('event').filter((m) => m.kind === 'end').length === 2 ? ws.of('event') : undefined),
      15_000,
      100,
    );
    const kinds = (id: number) => ends.filter((m) => m.after.id === id).map((m) => m.kind);
    person = ends.find((m) => m.kind === 'end' && m.after.label === 'person')!.after;
    car = ends.find((m) => m.kind === 'end' && m.after.label === 'car')!.after;
    assert.equal(kinds(person.id)[0], 'new');
    assert.equal(kinds(person.id).at(-1), 'end');
    assert.ok(kinds(person.id).includes('update'));
    assert.equal(person.endTimeMs, personLastMs);
    assert.equal(person.clip.startTimeMs, person.startTimeMs - 3000);
    assert.equal(person.clip.endTimeMs, personLastMs + 2000);
    assert.ok(person.maxScore > 0.85, String(person.maxScore));
    assert.equal(person.path.length, 16);
    assert.ok(person.snapshot);
    const motion = ws.of('motion').map((m) => m.active);
    assert.deepEqual(motion, [true, false]);
    const counts = ws.of('objects').map((m) => m.counts);
    assert.deepEqual(counts[0], { person: 1, car: 1 });
    assert.deepEqual(counts.at(-1), { person: 0, car: 0 });
    // The client that follows another camera saw none of it.
    assert.deepEqual(
      filtered.messages.map((m) => m.type),
      ['hello', 'subscribed'],
    );
    // Each event holds its clip against retention.
    const holds = await vigil.index.holds();
    assert.ok(
      holds.some(
        (h) =>
          h.cameraId === 'yard' &&
          h.startTimeMs === person.clip.startTimeMs &&
          h.endTimeMs === person.clip.endTimeMs,
      ),
    );
  });

  test('GET /api/events lists newest first, filters, and pages with a cursor', async () => {
    const all = await page('');
    assert.deepEqual(
      all.events.map((e) => e.id),
      [car.id, person.id],
    );
    assert.equal(all.nextCursor, null);
    assert.deepEqual(all.events[1], person);
    const first = await page('?limit=1');
    assert.deepEqual(
      first.events.map((e) => e.id),
      [car.id],
    );
    assert.ok(first.nextCursor);
    const second = await page(`?limit=1&cursor=${encodeURIComponent(first.nextCursor)}`);
    assert.deepEqual(
      second.events.map((e) => e.id),
      [person.id],
    );
    assert.equal(second.nextCursor, null);
    assert.deepEqual(
      (await page('?label=car&camera=yard')).events.map((e) => e.id),
      [car.id],
    );
    assert.deepEqual((await page('?camera=elsewhere')).events, []);
    // Time filters: the person's event overlaps a range around its end, the car's does not.
    const from = new Date(person.endTimeMs! - 100).toISOString();
    assert.deepEqual(
      (await page(`?from=${from}&to=${car.startTimeMs}`)).events.map((e) => e.id),
      [person.id],
    );
    const one = await call('GET', `/api/events/${person.id}`);
    assert.deepEqual(one.json, person);
  });

  test('snapshots: the frame with the box and the crop, as JPEG', async () => {
    const full = await call('GET', `/api/events/${person.id}/snapshot.jpg`);
    assert.equal(full.status, 200);
    assert.equal(full.headers.get('content-type'), 'image/jpeg');
    const meta = await sharp(full.bytes).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', frame.width, frame.height]);
    const crop = await call('GET', `/api/events/${person.id}/snapshot.jpg?crop=1`);
    const cropMeta = await sharp(crop.bytes).metadata();
    assert.equal(cropMeta.format, 'jpeg');
    assert.ok(cropMeta.width! < frame.width && cropMeta.height! <= frame.height);
    const again = await call('GET', `/api/events/${person.id}/snapshot.jpg`, {
      'if-none-match': full.headers.get('etag')!,
    });
    assert.equal(again.status, 304);
  });

  test('the clip is the recording from start − pre to end + post, playable, with Range support', async () => {
    await waitFor(
      'the recording to pass the end of the clip',
      async () => {
        const res = await call(
          'GET',
          `/api/cameras/yard/recordings?from=${person.clip.startTimeMs}&to=${Date.now()}`,
        );
        const spans = (res.json as { recordings: Array<{ endTimeMs: number }> }).recordings;
        return spans.some((s) => s.endTimeMs >= person.clip.endTimeMs + 200);
      },
      20_000,
    );
    const clip = await call('GET', `/api/events/${person.id}/clip.mp4`);
    assert.equal(clip.status, 200, JSON.stringify(clip.json));
    assert.equal(clip.headers.get('content-type'), 'video/mp4');
    assert.match(clip.headers.get('content-disposition') ?? '', /yard-person-.*\.mp4/);
    const file = join(vigil.dir, 'clip.mp4');
    writeFileSync(file, clip.bytes);
    const { stdout } = await execFileAsync(FFPROBE, [
      '-v',
      'error',
      '-count_frames',
      '-show_format',
      '-show_streams',
      '-of',
      'json',
      file,
    ]);
    const probe = JSON.parse(stdout) as {
      format: { duration: string };
      streams: Array<{ codec_name: string; nb_read_frames: string }>;
    };
    const durationMs = Number(probe.format.duration) * 1000;
    const clipMs = person.clip.endTimeMs - person.clip.startTimeMs;
    // Starts at the keyframe at or before the clip's start: up to one GOP (2 s) more.
    assert.ok(
      durationMs >= clipMs - 500 && durationMs <= clipMs + 2500,
      `clip ${durationMs} ms for a ${clipMs} ms range`,
    );
    assert.equal(probe.streams[0]!.codec_name, 'h264');
    assert.ok(Number(probe.streams[0]!.nb_read_frames) >= (clipMs / 1000) * 10 - 5);
    const part = await call('GET', `/api/events/${person.id}/clip.mp4`, { range: 'bytes=0-99' });
    assert.equal(part.status, 206);
    assert.equal(part.bytes.length, 100);
    assert.deepEqual(part.bytes, clip.bytes.subarray(0, 100));
  });

  test('malformed requests get 4xx with catalogue codes, never 500', async () => {
    const cases: Array<[string, string, number, string]> = [
      ['GET', '/api/events?limit=0', 400, 'REQUEST_INVALID'],
      ['GET', '/api/events?limit=501', 400, 'REQUEST_INVALID'],
      ['GET', '/api/events?limit=many', 400, 'REQUEST_INVALID'],
      ['GET', '/api/events?from=yesterday', 400, 'TIME_INVALID'],
      ['GET', '/api/events?from=2000&to=1000', 400, 'RANGE_INVALID'],
      ['GET', '/api/events?cursor=not-a-cursor', 400, 'REQUEST_INVALID'],
      ['GET', `/api/events?cursor=${'x'.repeat(500)}`, 400, 'REQUEST_INVALID'],
      ['GET', '/api/events?camera=Not%20An%20Id', 400, 'REQUEST_INVALID'],
      ['GET', '/api/events/abc', 400, 'REQUEST_INVALID'],
      ['GET', '/api/events/0', 400, 'REQUEST_INVALID'],
      ['GET', '/api/events/99999999999999999999', 400, 'REQUEST_INVALID'],
      ['GET', '/api/events/999999', 404, 'EVENT_NOT_FOUND'],
      ['GET', '/api/events/999999/snapshot.jpg', 404, 'EVENT_NOT_FOUND'],
      ['GET', `/api/events/1/snapshot.jpg?crop=maybe`, 400, 'REQUEST_INVALID'],
      ['GET', '/api/events/999999/clip.mp4', 404, 'EVENT_NOT_FOUND'],
      ['DELETE', '/api/events/999999', 404, 'EVENT_NOT_FOUND'],
    ];
    for (const [method, path, status, code] of cases) {
      const res = await call(method, path);
      assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.json)}`);
      assert.equal((res.json as ApiError).error.code, code, `${method} ${path}`);
    }
    const range = await call('GET', `/api/events/${person.id}/clip.mp4`, { range: 'bytes=999999999-' });
    assert.equal(range.status, 416);
    assert.equal((range.json as ApiError).error.code, 'RANGE_NOT_SATISFIABLE');
    ws.socket.send('not json');
    ws.socket.send(JSON.stringify({ type: 'subscribe', cameras: 'yard' }));
    const errors = await waitFor(
      'two error messages',
      () => (ws.of('error').length === 2 ? ws.of('error') : undefined),
      5000,
      20,
    );
    assert.ok(errors.every((e) => e.code === 'REQUEST_INVALID' && e.message.length > 10));
    assert.equal(ws.socket.readyState, WebSocket.OPEN);
  });

  test('DELETE removes the event, its files and its hold', async () => {
    const stored = await vigil.events.store.get(person.id);
    const files = [stored!.snapshotPath!, stored!.cropPath!].map((p) => join(vigil.dir, 'data', p));
    assert.ok(files.every((f) => existsSync(f)));
    const res = await call('DELETE', `/api/events/${person.id}`);
    assert.equal(res.status, 204);
    assert.equal((await call('GET', `/api/events/${person.id}`)).status, 404);
    assert.equal((await call('GET', `/api/events/${person.id}/snapshot.jpg`)).status, 404);
    assert.ok(files.every((f) => !existsSync(f)));
    const holds = await vigil.index.holds();
    assert.ok(
      !holds.some((h) => h.startTimeMs === person.clip.startTimeMs && h.endTimeMs === person.clip.endTimeMs),
    );
    assert.deepEqual(
      (await page('')).events.map((e) => e.id),
      [car.id],
    );
  });
});
