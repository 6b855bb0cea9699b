import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { DiscoverResponse, OnvifProbeResponse } from '../../src/contract/onvif.js';
import { apiFetch, REPO_ROOT, startTestVigil, type TestVigil } from '../helpers/vigil.js';

const run = promisify(execFile);
const PASSWORD = 'netns-Passw0rd';
const NS = `vigil-onvif-${process.pid}`;
const HOST_IF = `vo${process.pid % 100000}h`;
const NS_IF = `vo${process.pid % 100000}n`;
const SUBNET = `10.213.${process.pid % 250}`;
const HOST_IP = `${SUBNET}.1`;
const DEVICE_IP = `${SUBNET}.2`;

/** Why the namespace cannot be made here, or null when it can (root and `ip netns`). */
async function netnsProblem(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'needs root to make a network namespace (ip netns add)';
  try {
    await run('ip', ['netns', 'add', NS]);
    return null;
  } catch (err) {
    return `ip netns add failed: ${(err as Error).message}`;
  }
}

const problem = await netnsProblem();

describe(
  'ONVIF discovery across a veth pair into a network namespace (simulator inside)',
  { skip: problem ?? false, timeout: 60_000 },
  () => {
    let sim: ChildProcess;
    let vigil: TestVigil;
    let endpoint = '';
    let port = 0;

    before(async () => {
      const ip = (...args: string[]) => run('ip', args);
      await ip('link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NS_IF);
      await ip('link', 'set', NS_IF, 'netns', NS);
      await ip('addr', 'add', `${HOST_IP}/24`, 'dev', HOST_IF);
      await ip('link', 'set', HOST_IF, 'up');
      await ip('netns', 'exec', NS, 'ip', 'addr', 'add', `${DEVICE_IP}/24`, 'dev', NS_IF);
      await ip('netns', 'exec', NS, 'ip', 'link', 'set', NS_IF, 'up');
      await ip('netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up');
      const options = {
        user: 'admin',
        password: PASSWORD,
        host: DEVICE_IP,
        discovery: true,
        manufacturer: 'Namespace Maker',
        model: 'NS-1',
        profiles: [
          {
            token: 'main',
            name: 'Main',
            width: 1920,
            height: 1080,
            fps: 25,
            encoding: 'H264',
            uri: `rtsp://${DEVICE_IP}:554/main`,
          },
        ],
      };
      sim = spawn(
        'ip',
        [
          'netns',
          'exec',
          NS,
          process.execPath,
          '--import',
          'tsx',
          join(REPO_ROOT, 'test/helpers/onvif-simulator-main.ts'),
          JSON.stringify(options),
        ],
        { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const ready = await new Promise<string>((resolve, reject) => {
        let out = '';
        sim.stdout?.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const line = /ready (\d+) (\S+)/.exec(out);
          if (line) resolve(out);
        });
        sim.once('exit', (code) => reject(new Error(`the simulator exited (${code})`)));
      });
      const [, portText, endpointText] = /ready (\d+) (\S+)/.exec(ready) ?? [];
      port = Number(portText);
      endpoint = endpointText ?? '';
      vigil = await startTestVigil('storage: { path: ./data, minFreeBytes: 1MB }\ncameras: []\n');
    });

    after(async () => {
      await vigil?.close();
      sim?.kill('SIGTERM');
      await run('ip', ['link', 'del', HOST_IF]).catch(() => undefined);
      await run('ip', ['netns', 'del', NS]).catch(() => undefined);
    });

    test('a probe sent on the veth finds the device in the namespace, and the device reads', async () => {
      const res = await apiFetch(`${vigil.url}/api/onvif/discover`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ durationMs: 1000, interfaceAddress: HOST_IP }),
      });
      const found = (await res.json()) as DiscoverResponse;
      assert.equal(res.status, 200);
      const device = found.devices.find((d) => d.endpoint === endpoint);
      assert.ok(device, JSON.stringify(found));
      assert.deepEqual(device.addresses, [`http://${DEVICE_IP}:${port}/onvif/device_service`]);
      const probe = await apiFetch(`${vigil.url}/api/onvif/probe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ address: device.addresses[0], user: 'admin', password: PASSWORD }),
      });
      const body = (await probe.json()) as OnvifProbeResponse;
      assert.equal(probe.status, 200, JSON.stringify(body));
      assert.equal(body.device.model, 'NS-1');
      assert.equal(body.proposal?.main.url, `rtsp://${DEVICE_IP}:554/main`);
    });
  },
);
