import { randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import type { DiscoveredDevice } from '../contract/onvif.js';
import { parseProbeMatches } from './parse.js';

export const DISCOVERY_GROUP = '239.255.255.250';
export const DISCOVERY_PORT = 3702;
/** Devices answer within a random delay of up to 500 ms (APP_MAX_DELAY); 3 s leaves room for slow ones. */
export const DEFAULT_DISCOVERY_MS = 3_000;

/** A WS-Discovery Probe for ONVIF video transmitters (cameras and encoders). */
export function probeMessage(messageId: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" ' +
    'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ' +
    'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" ' +
    'xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><s:Header>' +
    `<a:MessageID>urn:uuid:${messageId}</a:MessageID>` +
    '<a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>' +
    '<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>' +
    '</s:Header><s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>'
  );
}

/** Answers from several devices (and repeated answers of one) merged by endpoint, in arrival order. */
export function mergeDevices(found: readonly DiscoveredDevice[]): DiscoveredDevice[] {
  const byEndpoint = new Map<string, DiscoveredDevice>();
  for (const device of found) {
    const key = device.endpoint || device.addresses.join(' ');
    const known = byEndpoint.get(key);
    if (!known) {
      byEndpoint.set(key, { ...device, addresses: [...new Set(device.addresses)] });
      continue;
    }
    known.addresses = [...new Set([...known.addresses, ...device.addresses])];
  }
  return [...byEndpoint.values()];
}

export interface DiscoveryOptions {
  durationMs?: number;
  /** IPv4 address of the interface to probe on (the camera network's); default the system's choice. */
  interfaceAddress?: string;
}

/**
 * Sends one Probe to the WS-Discovery group and collects ProbeMatches for `durationMs`
 * (sent twice, as UDP may drop one). Answers that do not parse are ignored: anything on the
 * network may send to our port.
 */
export async function discover(options: DiscoveryOptions = {}): Promise<DiscoveredDevice[]> {
  const durationMs = options.durationMs ?? DEFAULT_DISCOVERY_MS;
  const socket = dgram.createSocket({ type: 'udp4' });
  const found: DiscoveredDevice[] = [];
  const messageId = randomUUID();
  socket.on('message', (message) => {
    try {
      found.push(...parseProbeMatches(message.toString('utf8')));
    } catch {
      // Not a ProbeMatches answer.
    }
  });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, options.interfaceAddress, () => resolve());
    });
    if (options.interfaceAddress !== undefined) socket.setMulticastInterface(options.interfaceAddress);
    const probe = Buffer.from(probeMessage(messageId));
    for (const delayMs of [0, 200]) {
      await sleep(delayMs);
      socket.send(probe, DISCOVERY_PORT, DISCOVERY_GROUP);
    }
    await sleep(durationMs);
  } finally {
    socket.close();
  }
  return mergeDevices(found);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
