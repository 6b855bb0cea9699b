import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import mqtt from 'mqtt';
import { freePort } from './cameras.js';
import { waitFor } from './vigil.js';

export interface TestBroker {
  url: string;
  stop(): Promise<void>;
}

const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p)) ?? null;

/** Why the MQTT tests cannot run here, or null when they can (a broker runs or can be started). */
export async function brokerMissing(): Promise<string | null> {
  if (await reachable('mqtt://127.0.0.1:1883')) return null;
  return MOSQUITTO
    ? null
    : 'no MQTT broker on 127.0.0.1:1883 and mosquitto is not installed (apt-get install mosquitto)';
}

async function reachable(url: string): Promise<boolean> {
  const client = mqtt.connect(url, { connectTimeout: 2000, reconnectPeriod: 0 });
  try {
    return await new Promise<boolean>((resolve) => {
      client.once('connect', () => resolve(true));
      client.once('error', () => resolve(false));
      setTimeout(() => resolve(false), 2500);
    });
  } finally {
    client.end(true);
  }
}

/** The machine's Mosquitto on 1883 when it runs, else a private one on a free port for this test. */
export async function startBroker(): Promise<TestBroker> {
  if (await reachable('mqtt://127.0.0.1:1883'))
    return { url: 'mqtt://127.0.0.1:1883', stop: async () => undefined };
  if (!MOSQUITTO) throw new Error('mosquitto is not installed');
  const port = await freePort();
  const child = spawn(MOSQUITTO, ['-p', String(port)], { stdio: 'ignore' });
  const url = `mqtt://127.0.0.1:${port}`;
  await waitFor('mosquitto to listen', () => reachable(url), 10_000);
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise<void>((resolve) =>
        child.exitCode !== null ? resolve() : child.once('exit', () => resolve()),
      );
    },
  };
}
