import { VigilError } from '../errors/catalogue.js';
import type { CameraDeviceEvent, OnvifDeviceInfo, OnvifProfileView, PtzPreset } from '../contract/onvif.js';
import {
  parseCapabilities,
  parseDeviceInformation,
  parseMediaUri,
  parseNotifications,
  parsePresets,
  parseProfiles,
  parseProfiles2,
  parseServices,
  parseSetPreset,
  parseSubscription,
  parseSystemTime,
  parseUri2,
  type PullPointSubscription,
  type ServiceAddresses,
} from './parse.js';
import { SOAP_TIMEOUT_MS, soapRequest, type SoapCall } from './soap-client.js';
import type { Credentials } from './wsse.js';
import { escapeXml, type XmlNode } from './xml.js';

const ACTION = {
  device: 'http://www.onvif.org/ver10/device/wsdl',
  media: 'http://www.onvif.org/ver10/media/wsdl',
  media2: 'http://www.onvif.org/ver20/media/wsdl',
  ptz: 'http://www.onvif.org/ver20/ptz/wsdl',
  events: 'http://www.onvif.org/ver10/events/wsdl',
} as const;

/** A pan/tilt/zoom speed, each -1..1 (ONVIF's generic velocity space). */
export interface PtzVelocity {
  pan: number;
  tilt: number;
  zoom: number;
}

/**
 * One ONVIF device: the device service at `url` and the services it names. connect() measures
 * the clock offset first (without credentials: GetSystemDateAndTime is open by the spec), so
 * that the WS-UsernameToken of every later request carries the camera's time.
 */
export class OnvifDevice {
  private clockOffsetMs = 0;
  private services: ServiceAddresses = { media: null, media2: null, ptz: null, events: null };

  constructor(
    readonly url: string,
    private readonly credentials: Credentials | null,
    private readonly nowMs: () => number = Date.now,
  ) {}

  get offsetMs(): number {
    return this.clockOffsetMs;
  }

  get hasPtz(): boolean {
    return this.services.ptz !== null;
  }

  get hasEvents(): boolean {
    return this.services.events !== null;
  }

  /** Clock offset and service addresses; the device information. */
  async connect(): Promise<OnvifDeviceInfo> {
    const time = parseSystemTime(
      await this.call(this.url, ACTION.device, 'GetSystemDateAndTime', '<tds:GetSystemDateAndTime/>', false),
    );
    // Round-trip time is small next to the minutes a wrong camera clock is off by.
    this.clockOffsetMs = time === null ? 0 : time - this.nowMs();
    const info = parseDeviceInformation(
      await this.call(this.url, ACTION.device, 'GetDeviceInformation', '<tds:GetDeviceInformation/>'),
    );
    const found = await this.findServices();
    this.services = {
      media: onDeviceOrigin(found.media, this.url),
      media2: onDeviceOrigin(found.media2, this.url),
      ptz: onDeviceOrigin(found.ptz, this.url),
      events: onDeviceOrigin(found.events, this.url),
    };
    return info;
  }

  private async findServices(): Promise<ServiceAddresses> {
    try {
      return parseServices(
        await this.call(
          this.url,
          ACTION.device,
          'GetServices',
          '<tds:GetServices><tds:IncludeCapability>false</tds:IncludeCapability></tds:GetServices>',
        ),
      );
    } catch (err) {
      if (!(err instanceof VigilError) || err.code !== 'ONVIF_FAULT') throw err;
      // Devices before ONVIF 2.0 know only GetCapabilities.
      return parseCapabilities(
        await this.call(
          this.url,
          ACTION.device,
          'GetCapabilities',
          '<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>',
        ),
      );
    }
  }

  /**
   * Media profiles with their encoder settings and RTSP (and snapshot) addresses: through Media2
   * where the device has it (H.265 profiles are often only there), else, or when Media2 fails,
   * through Media.
   */
  async profiles(): Promise<OnvifProfileView[]> {
    const media2 = this.services.media2;
    if (media2 !== null) {
      const viaMedia2 = await this.optional(() => this.profiles2(media2));
      if (viaMedia2 !== null && viaMedia2.length > 0) return viaMedia2;
    }
    return this.profiles1();
  }

  private async profiles2(media2: string): Promise<OnvifProfileView[]> {
    const profiles = parseProfiles2(
      await this.call(
        media2,
        ACTION.media2,
        'GetProfiles',
        '<tr2:GetProfiles><tr2:Type>All</tr2:Type></tr2:GetProfiles>',
      ),
    );
    const views: OnvifProfileView[] = [];
    for (const profile of profiles) {
      const token = escapeXml(profile.token);
      const streamUri = parseUri2(
        await this.call(
          media2,
          ACTION.media2,
          'GetStreamUri',
          `<tr2:GetStreamUri><tr2:Protocol>RTSP</tr2:Protocol><tr2:ProfileToken>${token}</tr2:ProfileToken></tr2:GetStreamUri>`,
        ),
        'GetStreamUriResponse',
      );
      const snapshotUri = await this.optional(async () =>
        parseUri2(
          await this.call(
            media2,
            ACTION.media2,
            'GetSnapshotUri',
            `<tr2:GetSnapshotUri><tr2:ProfileToken>${token}</tr2:ProfileToken></tr2:GetSnapshotUri>`,
          ),
          'GetSnapshotUriResponse',
        ),
      );
      views.push({ ...profile, streamUri, snapshotUri });
    }
    return views;
  }

  private async profiles1(): Promise<OnvifProfileView[]> {
    const media = this.service('media');
    const profiles = parseProfiles(await this.call(media, ACTION.media, 'GetProfiles', '<trt:GetProfiles/>'));
    const views: OnvifProfileView[] = [];
    for (const profile of profiles) {
      const token = escapeXml(profile.token);
      const streamUri = parseMediaUri(
        await this.call(
          media,
          ACTION.media,
          'GetStreamUri',
          '<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream>' +
            '<tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup>' +
            `<trt:ProfileToken>${token}</trt:ProfileToken></trt:GetStreamUri>`,
        ),
        'GetStreamUriResponse',
      );
      const snapshotUri = await this.optional(async () =>
        parseMediaUri(
          await this.call(
            media,
            ACTION.media,
            'GetSnapshotUri',
            `<trt:GetSnapshotUri><trt:ProfileToken>${token}</trt:ProfileToken></trt:GetSnapshotUri>`,
          ),
          'GetSnapshotUriResponse',
        ),
      );
      views.push({ ...profile, streamUri, snapshotUri });
    }
    return views;
  }

  /** The first profile with a PTZ configuration: PTZ requests name a profile. */
  async ptzProfile(): Promise<string> {
    const media = this.service('media');
    this.service('ptz');
    const profiles = parseProfiles(await this.call(media, ACTION.media, 'GetProfiles', '<trt:GetProfiles/>'));
    const profile = profiles.find((p) => p.ptz);
    if (!profile) {
      throw new VigilError('ONVIF_NOT_CONFIGURED', `the device at ${this.url} has no profile with PTZ`);
    }
    return profile.token;
  }

  async continuousMove(profile: string, velocity: PtzVelocity): Promise<void> {
    await this.ptz(
      'ContinuousMove',
      `<tptz:ContinuousMove>${profileToken(profile)}<tptz:Velocity>` +
        `<tt:PanTilt x="${velocity.pan}" y="${velocity.tilt}"/><tt:Zoom x="${velocity.zoom}"/>` +
        '</tptz:Velocity></tptz:ContinuousMove>',
    );
  }

  async stop(profile: string): Promise<void> {
    await this.ptz(
      'Stop',
      `<tptz:Stop>${profileToken(profile)}<tptz:PanTilt>true</tptz:PanTilt><tptz:Zoom>true</tptz:Zoom></tptz:Stop>`,
    );
  }

  async gotoHome(profile: string): Promise<void> {
    await this.ptz(
      'GotoHomePosition',
      `<tptz:GotoHomePosition>${profileToken(profile)}</tptz:GotoHomePosition>`,
    );
  }

  async presets(profile: string): Promise<PtzPreset[]> {
    return parsePresets(
      await this.ptz('GetPresets', `<tptz:GetPresets>${profileToken(profile)}</tptz:GetPresets>`),
    );
  }

  async gotoPreset(profile: string, preset: string): Promise<void> {
    await this.ptz(
      'GotoPreset',
      `<tptz:GotoPreset>${profileToken(profile)}<tptz:PresetToken>${escapeXml(preset)}</tptz:PresetToken></tptz:GotoPreset>`,
    );
  }

  /** Stores the current position as a preset (a new one, or `token` overwritten); its token. */
  async setPreset(profile: string, name: string, token?: string): Promise<string> {
    return parseSetPreset(
      await this.ptz(
        'SetPreset',
        `<tptz:SetPreset>${profileToken(profile)}<tptz:PresetName>${escapeXml(name)}</tptz:PresetName>` +
          (token !== undefined ? `<tptz:PresetToken>${escapeXml(token)}</tptz:PresetToken>` : '') +
          '</tptz:SetPreset>',
      ),
    );
  }

  async removePreset(profile: string, preset: string): Promise<void> {
    await this.ptz(
      'RemovePreset',
      `<tptz:RemovePreset>${profileToken(profile)}<tptz:PresetToken>${escapeXml(preset)}</tptz:PresetToken></tptz:RemovePreset>`,
    );
  }

  /** A PullPoint subscription that ends by itself after `terminationS` unless renewed. */
  async subscribe(terminationS: number): Promise<PullPointSubscription> {
    const subscription = parseSubscription(
      await this.call(
        this.service('events'),
        ACTION.events,
        'CreatePullPointSubscription',
        `<tev:CreatePullPointSubscription><tev:InitialTerminationTime>PT${terminationS}S</tev:InitialTerminationTime></tev:CreatePullPointSubscription>`,
      ),
    );
    const address = onDeviceOrigin(subscription.address, this.url);
    if (address === null) {
      throw new VigilError('ONVIF_FAULT', `the device at ${this.url} gave no subscription address`);
    }
    return { ...subscription, address };
  }

  /** Waits up to `waitS` on the device for at most `limit` messages. */
  async pull(address: string, cameraId: string, waitS: number, limit: number): Promise<CameraDeviceEvent[]> {
    const body = await this.send({
      url: address,
      action: `${ACTION.events}/PullPointSubscription/PullMessagesRequest`,
      body: `<tev:PullMessages><tev:Timeout>PT${waitS}S</tev:Timeout><tev:MessageLimit>${limit}</tev:MessageLimit></tev:PullMessages>`,
      addressed: true,
      timeoutMs: SOAP_TIMEOUT_MS + waitS * 1000,
    });
    return parseNotifications(body, cameraId, this.nowMs());
  }

  async renew(address: string, terminationS: number): Promise<void> {
    await this.send({
      url: address,
      action: 'http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/RenewRequest',
      body: `<wsnt:Renew><wsnt:TerminationTime>PT${terminationS}S</wsnt:TerminationTime></wsnt:Renew>`,
      addressed: true,
    });
  }

  async unsubscribe(address: string): Promise<void> {
    await this.send({
      url: address,
      action: 'http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/UnsubscribeRequest',
      body: '<wsnt:Unsubscribe/>',
      addressed: true,
    });
  }

  private async ptz(operation: string, body: string): Promise<XmlNode | undefined> {
    return this.call(this.service('ptz'), ACTION.ptz, operation, body);
  }

  private service(name: keyof ServiceAddresses): string {
    const address = this.services[name];
    if (address === null) {
      throw new VigilError('ONVIF_NOT_CONFIGURED', `the ONVIF device at ${this.url} has no ${name} service`);
    }
    return address;
  }

  private async optional<T>(read: () => Promise<T>): Promise<T | null> {
    try {
      return await read();
    } catch (err) {
      if (err instanceof VigilError && err.code === 'ONVIF_FAULT') return null;
      throw err;
    }
  }

  private call(
    url: string,
    namespace: string,
    operation: string,
    body: string,
    authenticated = true,
  ): Promise<XmlNode | undefined> {
    return this.send({ url, action: `${namespace}/${operation}`, body }, authenticated);
  }

  private send(call: SoapCall, authenticated = true): Promise<XmlNode | undefined> {
    return soapRequest(call, {
      credentials: authenticated ? this.credentials : null,
      clockOffsetMs: this.clockOffsetMs,
      nowMs: this.nowMs,
    });
  }
}

/**
 * A service address moved onto the device's own scheme, host and port: devices behind NAT name
 * their inner address, and a device must not make Vigil send credentials to another host.
 */
export function onDeviceOrigin(address: string | null, deviceUrl: string): string | null {
  if (address === null) return null;
  try {
    const service = new URL(address);
    return new URL(service.pathname + service.search, new URL(deviceUrl).origin).toString();
  } catch {
    return null;
  }
}

function profileToken(profile: string): string {
  return `<tptz:ProfileToken>${escapeXml(profile)}</tptz:ProfileToken>`;
}
