import type { Logger } from 'pino';
import type { AuditInput, AuditRequester } from '../audit/entry.js';
import { auditTarget } from '../audit/entry.js';
import type { CameraConfig } from '../config/index.js';
import type { CameraNetworks } from '../config/url.js';
import type {
  CameraDeviceEvent,
  DiscoverResponse,
  OnvifProbeResponse,
  PtzPreset,
} from '../contract/onvif.js';
import { VigilError } from '../errors/catalogue.js';
import { checkCameraNetwork } from '../ingest/sources.js';
import { OnvifDevice, type PtzVelocity } from './device.js';
import { discover } from './discovery.js';
import { proposeStreams } from './proposal.js';
import { PullPointLoop } from './pull-point.js';
import { safeUrl } from './soap-client.js';
import type { Credentials } from './wsse.js';

/** A connected device is reused this long for PTZ: a joystick sends a move and a stop per press. */
const DEVICE_REUSE_MS = 60_000;

export interface OnvifServiceDeps {
  cameraConfig: (id: string) => CameraConfig | undefined;
  cameraIds: () => string[];
  cameraNetworks: () => CameraNetworks | undefined;
  record: (input: AuditInput) => void;
  recordMerged: (input: AuditInput, mergeKey: string) => void;
  /** A camera's own event (ONVIF PullPoint), for the bus. */
  onCameraEvent: (event: CameraDeviceEvent) => void;
  log: Logger;
  nowMs: () => number;
  /** PullPoint retry delay (tests shorten it). */
  eventsRetryDelayMs?: number;
}

interface ConnectedPtz {
  device: OnvifDevice;
  profile: string;
  key: string;
  connectedAtMs: number;
}

/**
 * ONVIF for the API and the cameras: discovery, probing a device into a proposed camera, PTZ
 * on a configured camera (audited), and one PullPoint loop per camera with ONVIF events on.
 */
export class OnvifService {
  private readonly ptzDevices = new Map<string, ConnectedPtz>();
  private readonly eventLoops = new Map<string, { key: string; loop: PullPointLoop }>();

  constructor(private readonly deps: OnvifServiceDeps) {}

  async discover(options: { durationMs?: number; interfaceAddress?: string }): Promise<DiscoverResponse> {
    const startMs = this.deps.nowMs();
    const devices = await discover(options);
    return { devices, durationMs: this.deps.nowMs() - startMs };
  }

  /** Device information, profiles and the proposed main/sub streams of the device at `address`. */
  async probe(request: { address: string; user?: string; password?: string }): Promise<OnvifProbeResponse> {
    const url = deviceServiceUrl(request.address);
    await this.assertNetwork(url, 'body.address');
    const credentials = credentialsOf(request.user, request.password);
    const device = new OnvifDevice(url, credentials, this.deps.nowMs);
    const info = await device.connect();
    const profiles = await device.profiles();
    return {
      url,
      device: info,
      clockOffsetMs: device.offsetMs,
      profiles,
      proposal: proposeStreams(profiles, request.user ?? ''),
      ptz: device.hasPtz && profiles.some((p) => p.ptz),
      events: device.hasEvents,
    };
  }

  async move(cameraId: string, velocity: PtzVelocity, by: AuditRequester): Promise<void> {
    const ptz = await this.ptz(cameraId);
    await ptz.device.continuousMove(ptz.profile, velocity);
    this.deps.recordMerged(
      { ...this.entry(by, 'ptz.move', cameraId), details: { ...velocity } },
      `ptz:${by.actor}:${cameraId}`,
    );
  }

  async stopMove(cameraId: string): Promise<void> {
    const ptz = await this.ptz(cameraId);
    await ptz.device.stop(ptz.profile);
  }

  async home(cameraId: string, by: AuditRequester): Promise<void> {
    const ptz = await this.ptz(cameraId);
    await ptz.device.gotoHome(ptz.profile);
    this.deps.record(this.entry(by, 'ptz.home', cameraId));
  }

  async presets(cameraId: string): Promise<PtzPreset[]> {
    const ptz = await this.ptz(cameraId);
    return ptz.device.presets(ptz.profile);
  }

  async gotoPreset(cameraId: string, preset: string, by: AuditRequester): Promise<void> {
    const ptz = await this.ptz(cameraId);
    await ptz.device.gotoPreset(ptz.profile, preset);
    this.deps.record({ ...this.entry(by, 'ptz.preset.goto', cameraId), details: { preset } });
  }

  /** Saves the current position as a new preset (or over `token`); the preset. */
  async setPreset(
    cameraId: string,
    name: string,
    token: string | undefined,
    by: AuditRequester,
  ): Promise<PtzPreset> {
    const ptz = await this.ptz(cameraId);
    const saved = await ptz.device.setPreset(ptz.profile, name, token);
    this.deps.record({ ...this.entry(by, 'ptz.preset.set', cameraId), details: { preset: saved, name } });
    return { token: saved, name };
  }

  async removePreset(cameraId: string, preset: string, by: AuditRequester): Promise<void> {
    const ptz = await this.ptz(cameraId);
    await ptz.device.removePreset(ptz.profile, preset);
    this.deps.record({ ...this.entry(by, 'ptz.preset.remove', cameraId), details: { preset } });
  }

  /** Starts, restarts or stops the camera's event loop after its configuration changed. */
  syncEvents(): void {
    const ids = new Set(this.deps.cameraIds());
    for (const [id, running] of this.eventLoops) {
      const camera = this.deps.cameraConfig(id);
      if (!ids.has(id) || camera === undefined || eventsKey(camera) !== running.key) {
        this.eventLoops.delete(id);
        void running.loop.stop();
      }
    }
    for (const id of ids) {
      const camera = this.deps.cameraConfig(id);
      const onvif = camera?.onvif;
      if (!camera || !onvif || !onvif.events || !camera.enabled || this.eventLoops.has(id)) continue;
      const loop = new PullPointLoop({
        cameraId: id,
        url: onvif.url,
        credentials: credentialsOf(onvif.user, onvif.password),
        onEvent: this.deps.onCameraEvent,
        log: this.deps.log,
        nowMs: this.deps.nowMs,
        ...(this.deps.eventsRetryDelayMs !== undefined ? { retryDelayMs: this.deps.eventsRetryDelayMs } : {}),
      });
      this.eventLoops.set(id, { key: eventsKey(camera), loop });
      loop.start();
    }
    for (const id of this.ptzDevices.keys()) if (!ids.has(id)) this.ptzDevices.delete(id);
  }

  async stop(): Promise<void> {
    const loops = [...this.eventLoops.values()];
    this.eventLoops.clear();
    await Promise.all(loops.map((l) => l.loop.stop()));
  }

  private async ptz(cameraId: string): Promise<ConnectedPtz> {
    const camera = this.deps.cameraConfig(cameraId);
    if (camera === undefined) throw new VigilError('CAMERA_NOT_FOUND', `no camera has the id '${cameraId}'`);
    const onvif = camera.onvif;
    if (onvif === undefined) {
      throw new VigilError(
        'ONVIF_NOT_CONFIGURED',
        `camera '${cameraId}' has no ONVIF address: add onvif.url (and its user and password) to the camera`,
      );
    }
    const key = eventsKey(camera);
    const known = this.ptzDevices.get(cameraId);
    if (known && known.key === key && this.deps.nowMs() - known.connectedAtMs < DEVICE_REUSE_MS) return known;
    await this.assertNetwork(onvif.url, `camera '${cameraId}' onvif.url`);
    const device = new OnvifDevice(onvif.url, credentialsOf(onvif.user, onvif.password), this.deps.nowMs);
    await device.connect();
    if (!device.hasPtz) {
      throw new VigilError(
        'ONVIF_NOT_CONFIGURED',
        `the ONVIF device of camera '${cameraId}' has no PTZ service`,
      );
    }
    const connected = { device, profile: await device.ptzProfile(), key, connectedAtMs: this.deps.nowMs() };
    this.ptzDevices.set(cameraId, connected);
    return connected;
  }

  private entry(by: AuditRequester, action: AuditInput['action'], cameraId: string): AuditInput {
    return { actor: by.actor, action, target: auditTarget.camera(cameraId), ip: by.ip };
  }

  private async assertNetwork(url: string, field: string): Promise<void> {
    const networks = this.deps.cameraNetworks();
    const refused = await checkCameraNetwork(url, networks);
    if (refused) {
      throw new VigilError('CAMERA_NETWORK_REFUSED', `${field}: ${refused.message}`, {
        field,
        cameraNetworks: networks?.cidrs ?? [],
      });
    }
  }
}

/** What a camera's ONVIF connection depends on: a change means connecting anew. */
function eventsKey(camera: CameraConfig): string {
  const onvif = camera.onvif;
  return JSON.stringify([onvif?.url, onvif?.user, onvif?.password, onvif?.events, camera.enabled]);
}

function credentialsOf(user: string | undefined, password: string | undefined): Credentials | null {
  return user === undefined || user === '' ? null : { user, password: password ?? '' };
}

/**
 * The device service address for what a user typed: a full http(s) URL as it is, or a host
 * (with an optional port) on the standard path /onvif/device_service.
 */
export function deviceServiceUrl(address: string): string {
  const trimmed = address.trim();
  const withScheme = /^https?:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new VigilError(
      'REQUEST_INVALID',
      `body.address: '${address}' is neither a host nor an http(s) URL`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new VigilError(
      'REQUEST_INVALID',
      'body.address: send the user and password as fields, not in the address',
    );
  }
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/onvif/device_service';
  return safeUrl(url.toString());
}
