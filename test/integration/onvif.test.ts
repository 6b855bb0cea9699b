import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type {
  CameraDeviceEvent,
  DiscoverResponse,
  OnvifProbeResponse,
  PtzPresetList,
} from '../../src/contract/onvif.js';
import type { MotionChange } from '../../src/contract/push.js';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { OnvifSimulator } from '../helpers/onvif-simulator.js';
import { apiFetch, startTestVigil, waitFor, type TestVigil } from '../helpers/vigil.js';

const CAMERA_PASSWORD = 'onvif-Passw0rd-never-shown';
const PASSWORD = 'a long enough passphrase 7';
/** The simulated camera's clock is an hour ahead: the token must carry the camera's time. */
const SKEW_MS = 3_600_000;

function withoutCredentials(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString();
}

describe(
  'ONVIF: discover, probe, add, record, PTZ, camera events (against the ONVIF simulator)',
  { timeout: 180_000 },
  () => {
    let cameras: TestCameras;
    let sim: OnvifSimulator;
    let vigil: TestVigil;
    let operatorToken: string;
    let viewerToken: string;
    let narrowToken: string;

    const post = (path: string, body: unknown, token?: string) =>
      apiFetch(`${vigil.url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });

    before(async () => {
      cameras = await startCameras({ count: 1, user: 'admin', password: CAMERA_PASSWORD });
      sim = new OnvifSimulator({
        user: 'admin',
        password: CAMERA_PASSWORD,
        clockSkewMs: SKEW_MS,
        ptz: true,
        discovery: true,
        manufacturer: 'Simulated Maker',
        model: 'SIM-PTZ 4K',
        profiles: [
          {
            token: 'sub',
            name: 'Sub',
            width: 640,
            height: 480,
            fps: 10,
            encoding: 'H264',
            uri: withoutCredentials(cameras.urls(1).sub),
          },
          {
            token: 'main',
            name: 'Main',
            width: 1280,
            height: 960,
            fps: 10,
            encoding: 'H264',
            uri: withoutCredentials(cameras.urls(1).main),
          },
        ],
      });
      await sim.start();
      vigil = await startTestVigil(`
storage: { path: ./data, minFreeBytes: 1MB }
cameras:
  - id: plain
    streams:
      main: { url: "testsrc:?size=320x240&fps=5" }
`);
      const make = async (name: string, role: 'operator' | 'viewer', grants?: string[]) => {
        const user = await vigil.auth.store.createUser({
          name,
          role,
          password: PASSWORD,
          ...(grants ? { cameras: grants } : {}),
        });
        return (await vigil.auth.store.createToken(user.id, { label: 't' })).token;
      };
      operatorToken = await make('op1', 'operator');
      viewerToken = await make('viewer1', 'viewer');
      narrowToken = await make('op-plain-only', 'operator', ['plain']);
    });

    after(async () => {
      await vigil?.close();
      await sim?.stop();
      await cameras?.stop();
    });

    test('discovery finds the simulator on loopback multicast, once, with its scopes', async () => {
      const res = await post('/api/onvif/discover', { durationMs: 1000, interfaceAddress: '127.0.0.1' });
      assert.equal(res.status, 200);
      const body = (await res.json()) as DiscoverResponse;
      const found = body.devices.filter((d) => d.endpoint === sim.endpoint);
      assert.equal(found.length, 1, JSON.stringify(body));
      assert.deepEqual(found[0]?.addresses, [sim.deviceUrl]);
      assert.equal(found[0]?.hardware, 'SIM-PTZ 4K');
      assert.equal(found[0]?.manufacturer, 'Simulated Maker');
      assert.equal(found[0]?.location, 'test bench');
      const refused = await post('/api/onvif/discover', {}, operatorToken);
      assert.equal(refused.status, 403, 'discovery is camera management');
    });

    test('probe: a wrong password is refused; the right one gives the device and main/sub proposal', async () => {
      const wrong = await post('/api/onvif/probe', {
        address: sim.deviceUrl,
        user: 'admin',
        password: 'nope',
      });
      assert.equal(wrong.status, 400);
      assert.equal(((await wrong.json()) as { error: { code: string } }).error.code, 'ONVIF_AUTH_FAILED');
      const res = await post('/api/onvif/probe', {
        address: sim.deviceUrl,
        user: 'admin',
        password: CAMERA_PASSWORD,
      });
      const body = (await res.json()) as OnvifProbeResponse;
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.device.manufacturer, 'Simulated Maker');
      assert.ok(Math.abs(body.clockOffsetMs - SKEW_MS) < 5_000, `offset ${body.clockOffsetMs}`);
      assert.equal(body.proposal?.main.profile, 'main');
      assert.equal(body.proposal?.main.url, withoutCredentials(cameras.urls(1).main));
      assert.equal(body.proposal?.sub?.profile, 'sub');
      assert.equal(body.profiles.find((p) => p.token === 'main')?.width, 1280);
      assert.ok(body.ptz);
      assert.ok(!JSON.stringify(body).includes(CAMERA_PASSWORD));
      const byHost = await post('/api/onvif/probe', {
        address: `127.0.0.1:${sim.port}`,
        user: 'admin',
        password: CAMERA_PASSWORD,
      });
      assert.equal(byHost.status, 200, 'a typed host:port reaches /onvif/device_service');
    });

    test('a Profile T device is read through Media2: its H.265 profile, which Media does not list, is proposed', async () => {
      const h265 = new OnvifSimulator({
        user: 'admin',
        password: CAMERA_PASSWORD,
        media2: true,
        profiles: [
          {
            token: 'hevc',
            name: 'H.265 main',
            width: 2560,
            height: 1440,
            fps: 15,
            encoding: 'H265',
            uri: 'rtsp://127.0.0.1:8554/hevc',
            media2Only: true,
          },
          {
            token: 'avc',
            name: 'H.264 sub',
            width: 640,
            height: 360,
            fps: 15,
            encoding: 'H264',
            uri: 'rtsp://127.0.0.1:8554/avc',
          },
        ],
      });
      await h265.start();
      try {
        const res = await post('/api/onvif/probe', {
          address: h265.deviceUrl,
          user: 'admin',
          password: CAMERA_PASSWORD,
        });
        const body = (await res.json()) as OnvifProbeResponse;
        assert.equal(res.status, 200, JSON.stringify(body));
        assert.deepEqual(
          body.profiles.map((p) => [p.token, p.encoding, p.width, p.height, p.fps, p.streamUri]),
          [
            ['hevc', 'H265', 2560, 1440, 15, 'rtsp://127.0.0.1:8554/hevc'],
            ['avc', 'H264', 640, 360, 15, 'rtsp://127.0.0.1:8554/avc'],
          ],
        );
        assert.equal(body.proposal?.main.profile, 'hevc');
        assert.equal(body.proposal?.sub?.profile, 'avc');
        assert.ok(body.profiles.every((p) => p.snapshotUri?.endsWith(`/snapshot/${p.token}.jpg`)));
        assert.deepEqual([...new Set(h265.media2Calls)].sort(), [
          'GetProfiles',
          'GetSnapshotUri',
          'GetStreamUri',
        ]);
      } finally {
        await h265.stop();
      }
      // The first simulator has no Media2: it was read through Media, as before.
      assert.deepEqual(sim.media2Calls, []);
    });

    test('the proposal saved with POST /api/cameras records; the ONVIF password is never shown', async () => {
      const probe = (await (
        await post('/api/onvif/probe', { address: sim.deviceUrl, user: 'admin', password: CAMERA_PASSWORD })
      ).json()) as OnvifProbeResponse;
      const proposal = probe.proposal!;
      const res = await post('/api/cameras', {
        id: 'ptzcam',
        name: 'PTZ camera',
        streams: {
          main: { url: proposal.main.url, user: 'admin', password: CAMERA_PASSWORD },
          sub: { url: proposal.sub!.url, user: 'admin', password: CAMERA_PASSWORD },
        },
        onvif: { url: probe.url, user: 'admin', password: CAMERA_PASSWORD },
      });
      const text = await res.text();
      assert.equal(res.status, 201, text);
      assert.ok(!text.includes(CAMERA_PASSWORD));
      assert.ok(text.includes('"onvif":{'));
      await waitFor(
        'ptzcam to record',
        () => (vigil.cameras.liveSegment('ptzcam', 'main') ? true : undefined),
        30_000,
      );
      const list = await (await apiFetch(`${vigil.url}/api/cameras`)).text();
      assert.ok(!list.includes(CAMERA_PASSWORD));
      const audit = await (await apiFetch(`${vigil.url}/api/audit?action=camera`)).text();
      assert.ok(!audit.includes(CAMERA_PASSWORD), 'the audit log holds no ONVIF password');
    });

    test('PTZ moves and presets reach the device and are audited', async () => {
      const before = sim.ptzCalls.length;
      assert.equal(
        (await post('/api/cameras/ptzcam/ptz/move', { pan: 0.5, tilt: -0.25 }, operatorToken)).status,
        204,
      );
      assert.equal((await post('/api/cameras/ptzcam/ptz/stop', {}, operatorToken)).status, 204);
      const presets = (await (
        await apiFetch(`${vigil.url}/api/cameras/ptzcam/ptz/presets`, {
          headers: { authorization: `Bearer ${operatorToken}` },
        })
      ).json()) as PtzPresetList;
      assert.deepEqual(presets.presets, [{ token: '1', name: 'Gate' }]);
      const saved = await post('/api/cameras/ptzcam/ptz/presets', { name: 'Door' }, operatorToken);
      assert.equal(saved.status, 201);
      const token = ((await saved.json()) as { token: string }).token;
      assert.equal(
        (await post(`/api/cameras/ptzcam/ptz/presets/${token}/goto`, {}, operatorToken)).status,
        204,
      );
      const removed = await apiFetch(`${vigil.url}/api/cameras/ptzcam/ptz/presets/${token}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${operatorToken}` },
      });
      assert.equal(removed.status, 204);
      assert.equal((await post('/api/cameras/ptzcam/ptz/home', {}, operatorToken)).status, 204);
      const calls = sim.ptzCalls.slice(before);
      assert.deepEqual(
        calls.map((c) => c.operation),
        ['ContinuousMove', 'Stop', 'SetPreset', 'GotoPreset', 'RemovePreset', 'GotoHomePosition'],
      );
      assert.deepEqual(calls[0]?.detail, { pan: '0.5', tilt: '-0.25', zoom: '0' });
      assert.equal(calls[0]?.profile, 'sub', 'the first profile with PTZ');
      assert.ok(!sim.presets.has(token));
      const audit = (await (await apiFetch(`${vigil.url}/api/audit?action=ptz`)).json()) as {
        entries: Array<{ action: string; actor: string; target: string }>;
      };
      const actions = audit.entries.map((e) => e.action).sort();
      assert.deepEqual(actions, [
        'ptz.home',
        'ptz.move',
        'ptz.preset.goto',
        'ptz.preset.remove',
        'ptz.preset.set',
      ]);
      assert.ok(audit.entries.every((e) => e.actor === 'op1' && e.target === 'camera:ptzcam'));
    });

    test('PTZ is refused without ptz.control, on another camera, and through encoded ids', async () => {
      const before = sim.ptzCalls.length;
      const attempts: Array<[string, string, string]> = [
        ['viewer', viewerToken, '/api/cameras/ptzcam/ptz/move'],
        ['viewer', viewerToken, '/api/cameras/ptzcam/ptz/presets/1/goto'],
        ['operator granted plain only', narrowToken, '/api/cameras/ptzcam/ptz/move'],
      ];
      for (const [who, token, path] of attempts) {
        const res = await post(path, { pan: 1 }, token);
        assert.equal(res.status, 403, `${who} ${path}: ${res.status}`);
      }
      // Encoded and odd spellings of the id: refused as non-canonical paths or bad ids, never run.
      for (const path of [
        '/api/cameras/ptz%63am/ptz/move',
        '/api/cameras/%70tzcam/ptz/home',
        '/api/cameras/PTZCAM/ptz/move',
        '/api/cameras/ptzcam%2f..%2fplain/ptz/move',
      ]) {
        const res = await post(path, { pan: 1 }, narrowToken);
        assert.ok([400, 403, 404].includes(res.status), `${path}: ${res.status}`);
      }
      const plain = await post('/api/cameras/plain/ptz/move', { pan: 1 }, narrowToken);
      assert.equal(plain.status, 409, 'a camera without ONVIF says so');
      assert.equal(sim.ptzCalls.length, before, 'nothing reached the device');
    });

    test("a PullPoint motion event reaches the bus as the camera's event and as motion", async () => {
      const deviceEvents: CameraDeviceEvent[] = [];
      const motion: MotionChange[] = [];
      const offEvent = vigil.events.bus.on('camera-event', (e) => deviceEvents.push(e));
      const offMotion = vigil.events.bus.on('motion', (m) => motion.push(m));
      try {
        await waitFor('a PullPoint subscription', () => (sim.subscriptions > 0 ? true : undefined), 20_000);
        // Vigil's own motion detector shares the camera's motion state: false then true always
        // ends in a published `true`, whatever that detector said before.
        sim.emit('tns1:VideoSource/MotionAlarm', { State: 'false' }, { Source: 'vs0' });
        sim.emit(
          'tns1:RuleEngine/CellMotionDetector/Motion',
          { IsMotion: 'true' },
          { VideoSourceConfigurationToken: 'vsc0', Rule: 'MyMotionDetectorRule' },
        );
        sim.emit('tns1:Device/Trigger/DigitalInput', { LogicalState: 'true' }, { InputToken: 'DI_0' });
        await waitFor(
          'the events',
          () =>
            deviceEvents.length >= 3 && motion.some((m) => m.cameraId === 'ptzcam' && m.active)
              ? true
              : undefined,
          20_000,
        );
        assert.deepEqual(
          deviceEvents.map((e) => [e.cameraId, e.kind, e.active, e.topic]),
          [
            ['ptzcam', 'motion', false, 'VideoSource/MotionAlarm'],
            ['ptzcam', 'motion', true, 'RuleEngine/CellMotionDetector/Motion'],
            ['ptzcam', 'digital-input', true, 'Device/Trigger/DigitalInput'],
          ],
        );
        assert.equal(deviceEvents[2]?.source['InputToken'], 'DI_0');
        assert.equal(motion.filter((m) => m.cameraId === 'ptzcam').at(-1)?.active, true);
        // The motion's end makes a period on the timeline, in Vigil's time (the camera is an hour ahead).
        const emittedMs = Date.now();
        sim.emit(
          'tns1:RuleEngine/CellMotionDetector/Motion',
          { IsMotion: 'false' },
          { Rule: 'MyMotionDetectorRule' },
        );
        const period = await waitFor(
          'a motion period',
          async () => {
            const res = await apiFetch(
              `${vigil.url}/api/cameras/ptzcam/motion?from=${emittedMs - 60_000}&to=${emittedMs + 60_000}`,
            );
            const body = (await res.json()) as {
              periods: Array<{ startTimeMs: number; endTimeMs: number; maxScore: number }>;
            };
            return body.periods.find((p) => p.maxScore === 1);
          },
          20_000,
        );
        assert.ok(
          Math.abs(period.endTimeMs - emittedMs) < 10_000,
          `period end ${period.endTimeMs - emittedMs} ms off`,
        );
      } finally {
        offEvent();
        offMotion();
      }
    });

    test("the camera's tamper and input events are kept for the timeline; motion is not among them", async () => {
      await waitFor('a PullPoint subscription', () => (sim.subscriptions > 0 ? true : undefined), 20_000);
      const emittedMs = Date.now();
      sim.emit(
        'tns1:RuleEngine/TamperDetector/Tamper',
        { IsTamper: 'true' },
        { VideoSourceConfigurationToken: 'vsc0' },
      );
      sim.emit('tns1:Device/Trigger/DigitalInput', { LogicalState: 'false' }, { InputToken: 'DI_0' });
      const range = `from=${emittedMs - 120_000}&to=${emittedMs + 60_000}`;
      type Listed = {
        events: Array<{
          kind: string;
          active: boolean;
          topic: string;
          timeMs: number;
          source: Record<string, string>;
        }>;
      };
      const listed = await waitFor(
        'the stored events',
        async () => {
          const res = await apiFetch(`${vigil.url}/api/cameras/ptzcam/camera-events?${range}`);
          assert.equal(res.status, 200);
          const body = (await res.json()) as Listed;
          return body.events.some((e) => e.kind === 'tamper') &&
            body.events.some((e) => e.kind === 'digital-input' && !e.active)
            ? body
            : undefined;
        },
        20_000,
      );
      assert.ok(
        listed.events.every((e) => e.kind !== 'motion'),
        'motion is kept as periods',
      );
      const tamper = listed.events.find((e) => e.kind === 'tamper')!;
      assert.equal(tamper.topic, 'RuleEngine/TamperDetector/Tamper');
      assert.equal(tamper.source['VideoSourceConfigurationToken'], 'vsc0');
      // In Vigil's time, though the camera's clock is an hour ahead.
      assert.ok(Math.abs(tamper.timeMs - emittedMs) < 10_000, `${tamper.timeMs - emittedMs} ms off`);
      assert.deepEqual(
        listed.events.filter((e) => e.kind === 'digital-input').map((e) => e.active),
        [true, false],
        'the input went on (previous test) and off',
      );
      // Without credentials nothing; other spellings of the path are refused before any access check.
      assert.equal((await fetch(`${vigil.url}/api/cameras/ptzcam/camera-events?${range}`)).status, 401);
      for (const path of [
        '/api/cameras/%70tzcam/camera-events',
        '/api/cameras//ptzcam/camera-events',
        '/api/cameras/ptzcam/camera-events/',
      ]) {
        const res = await fetch(`${vigil.url}${path}?${range}`);
        assert.equal(res.status, 400, path);
        assert.match(await res.text(), /PATH_NOT_CANONICAL/);
      }
      const bad = await apiFetch(`${vigil.url}/api/cameras/ptzcam/camera-events?from=yesterday`);
      assert.equal(bad.status, 400);
    });

    test('a change without the ONVIF password keeps it, but not for another host', async () => {
      const current = (await (await apiFetch(`${vigil.url}/api/cameras/ptzcam`)).json()) as {
        streams: Record<string, { url: string }>;
      };
      const put = (onvif: Record<string, string>) =>
        apiFetch(`${vigil.url}/api/cameras/ptzcam`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            streams: { main: { url: current.streams['main']!.url, user: 'admin' } },
            onvif,
          }),
        });
      const kept = await put({ url: sim.deviceUrl, user: 'admin' });
      assert.equal(kept.status, 200, await kept.text());
      assert.equal(vigil.cameras.config('ptzcam')?.onvif?.password, CAMERA_PASSWORD);
      assert.equal((await post('/api/cameras/ptzcam/ptz/home', {}, operatorToken)).status, 204);
      // Pointing the address elsewhere must not carry the stored password there.
      const moved = await put({ url: 'http://127.0.0.2:9/onvif/device_service', user: 'admin' });
      assert.equal(moved.status, 400);
      assert.equal(
        ((await moved.json()) as { error: { code: string } }).error.code,
        'CAMERA_PASSWORD_REQUIRED',
      );
    });

    test('removing the camera ends its subscription (Unsubscribe)', async () => {
      const res = await apiFetch(`${vigil.url}/api/cameras/ptzcam`, { method: 'DELETE' });
      assert.equal(res.status, 204);
      await waitFor('Unsubscribe', () => (sim.unsubscribed > 0 ? true : undefined), 15_000);
    });
  },
);
