/**
 * An ONVIF device SIMULATOR for tests: not a camera, and not derived from any camera's firmware.
 * It answers the SOAP requests Vigil sends (device, media, PTZ, events services) the way the
 * ONVIF specifications describe, checks WS-UsernameToken digests (or HTTP Digest) against its
 * own clock, which may be set wrong on purpose, and answers WS-Discovery probes on loopback
 * multicast. Its stream URIs point wherever the test says (the RTSP camera emulator).
 */
import { createHash, randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { attr, child, parseXml, path, text, textAt, type XmlNode } from '../../src/onvif/xml.js';

export interface SimulatedProfile {
  token: string;
  name: string;
  width: number;
  height: number;
  fps: number;
  encoding: string;
  /** RTSP address handed out by GetStreamUri. */
  uri: string;
  /** Listed by Media2 only, as cameras do with their H.265 profiles. */
  media2Only?: boolean;
}

export interface SimulatorOptions {
  user: string;
  password: string;
  profiles: SimulatedProfile[];
  /** The device's clock minus the real one (a camera with a wrong clock). */
  clockSkewMs?: number;
  /** 'wsse': WS-UsernameToken only; 'http-digest': refuses anything without HTTP Digest. */
  auth?: 'wsse' | 'http-digest';
  ptz?: boolean;
  /** The address it listens on (HTTP, and WS-Discovery membership); default 127.0.0.1. */
  host?: string;
  /** Answer WS-Discovery on 239.255.255.250:3702 via `host`. */
  discovery?: boolean;
  manufacturer?: string;
  model?: string;
  /** Offer the Media2 service (ONVIF Profile T) next to Media. */
  media2?: boolean;
}

export interface PtzCall {
  operation: string;
  profile: string;
  detail: Record<string, string>;
}

/** How far a token's Created may be from the device's clock (cameras allow a few seconds to minutes). */
const CREATED_TOLERANCE_MS = 30_000;
const PULL_WAIT_CAP_MS = 1_500;

export class OnvifSimulator {
  readonly endpoint = `urn:uuid:${randomUUID()}`;
  readonly ptzCalls: PtzCall[] = [];
  readonly presets = new Map<string, string>([['1', 'Gate']]);
  /** Requests refused for authentication, by operation. */
  readonly refused: string[] = [];
  /** Media2 requests answered, by operation. */
  readonly media2Calls: string[] = [];
  subscriptions = 0;
  unsubscribed = 0;
  private readonly queued: string[] = [];
  private readonly waiting = new Set<() => void>();
  private server: Server | null = null;
  private discovery: dgram.Socket | null = null;
  private nextPreset = 2;
  port = 0;

  constructor(readonly options: SimulatorOptions) {}

  get host(): string {
    return this.options.host ?? '127.0.0.1';
  }

  get deviceUrl(): string {
    return `http://${this.host}:${this.port}/onvif/device_service`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, this.host, resolve));
    this.port = (this.server.address() as AddressInfo).port;
    if (this.options.discovery) await this.startDiscovery();
  }

  async stop(): Promise<void> {
    for (const wake of this.waiting) wake();
    this.discovery?.close();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Queues a notification for the next PullMessages (a real camera's motion detector firing). */
  emit(topic: string, data: Record<string, string>, source: Record<string, string> = {}): void {
    const items = (record: Record<string, string>) =>
      Object.entries(record)
        .map(([name, value]) => `<tt:SimpleItem Name="${name}" Value="${value}"/>`)
        .join('');
    this.queued.push(
      '<wsnt:NotificationMessage><wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">' +
        `${topic}</wsnt:Topic><wsnt:Message><tt:Message UtcTime="${new Date(this.nowMs()).toISOString()}" ` +
        `PropertyOperation="Changed"><tt:Source>${items(source)}</tt:Source><tt:Data>${items(data)}</tt:Data>` +
        '</tt:Message></wsnt:Message></wsnt:NotificationMessage>',
    );
    for (const wake of this.waiting) wake();
  }

  private nowMs(): number {
    return Date.now() + (this.options.clockSkewMs ?? 0);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const envelope = path(parseXml(Buffer.concat(chunks).toString('utf8')), 'Envelope');
    const body = child(envelope, 'Body');
    const operation =
      typeof body === 'object' ? (Object.keys(body).find((k) => !k.startsWith('@_')) ?? '') : '';
    const request = child(body, operation);
    if (operation !== 'GetSystemDateAndTime') {
      const refusal = this.checkAuth(req, child(envelope, 'Header'));
      if (refusal !== null) {
        this.refused.push(operation);
        if (refusal === 'challenge') {
          res.writeHead(401, {
            'www-authenticate': `Digest realm="sim", qop="auth", nonce="${randomUUID()}", algorithm=MD5`,
          });
          res.end();
          return;
        }
        this.reply(res, 400, fault('ter:NotAuthorized', 'Sender not authorized'));
        return;
      }
    }
    const answer = await this.answer(operation, request, req.url ?? '/');
    if (answer === null)
      this.reply(res, 400, fault('ter:ActionNotSupported', `${operation} is not supported`));
    else this.reply(res, 200, answer);
  }

  private reply(res: ServerResponse, status: number, body: string): void {
    res.writeHead(status, { 'content-type': 'application/soap+xml; charset=utf-8' });
    res.end(
      '<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" ' +
        'xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:tds="http://www.onvif.org/ver10/device/wsdl" ' +
        'xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:tr2="http://www.onvif.org/ver20/media/wsdl" xmlns:tptz="http://www.onvif.org/ver20/ptz/wsdl" ' +
        'xmlns:tev="http://www.onvif.org/ver10/events/wsdl" xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" ' +
        'xmlns:wsa5="http://www.w3.org/2005/08/addressing" xmlns:ter="http://www.onvif.org/ver10/error" ' +
        'xmlns:tns1="http://www.onvif.org/ver10/topics">' +
        `<SOAP-ENV:Body>${body}</SOAP-ENV:Body></SOAP-ENV:Envelope>`,
    );
  }

  /** null when allowed; 'fault' (WS-Security refused) or 'challenge' (HTTP Digest wanted). */
  private checkAuth(req: IncomingMessage, header: XmlNode | undefined): 'fault' | 'challenge' | null {
    if (this.options.auth === 'http-digest') return this.httpDigestOk(req) ? null : 'challenge';
    const token = path(header, 'Security', 'UsernameToken');
    if (token === undefined) return 'fault';
    const created = textAt(token, 'Created');
    const nonce = Buffer.from(textAt(token, 'Nonce'), 'base64');
    const expected = createHash('sha1')
      .update(Buffer.concat([nonce, Buffer.from(created), Buffer.from(this.options.password)]))
      .digest('base64');
    const skew = Math.abs(Date.parse(created) - this.nowMs());
    const ok =
      textAt(token, 'Username') === this.options.user &&
      text(path(token, 'Password')) === expected &&
      Number.isFinite(skew) &&
      skew <= CREATED_TOLERANCE_MS;
    return ok ? null : 'fault';
  }

  private httpDigestOk(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    const fields = new Map([...header.matchAll(/(\w+)="?([^",]*)"?/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
    const md5 = (s: string) => createHash('md5').update(s).digest('hex');
    const ha1 = md5(`${this.options.user}:sim:${this.options.password}`);
    const ha2 = md5(`POST:${fields.get('uri') ?? ''}`);
    const expected = md5(
      `${ha1}:${fields.get('nonce')}:${fields.get('nc')}:${fields.get('cnonce')}:${fields.get('qop')}:${ha2}`,
    );
    return fields.get('username') === this.options.user && fields.get('response') === expected;
  }

  private media1Profiles(): SimulatedProfile[] {
    return this.options.profiles.filter((p) => p.media2Only !== true);
  }

  /** The Media2 service (ver20): profiles as Configurations, URIs without a MediaUri wrapper. */
  private answerMedia2(operation: string, profile: string): string | null {
    this.media2Calls.push(operation);
    if (operation === 'GetProfiles')
      return `<tr2:GetProfilesResponse>${this.options.profiles.map((p) => this.profile2Xml(p)).join('')}</tr2:GetProfilesResponse>`;
    if (operation !== 'GetStreamUri' && operation !== 'GetSnapshotUri') return null;
    const found = this.options.profiles.find((p) => p.token === profile);
    if (!found) return null;
    const uri =
      operation === 'GetStreamUri'
        ? found.uri
        : `http://${this.host}:${this.port}/snapshot/${found.token}.jpg`;
    return `<tr2:${operation}Response><tr2:Uri>${uri}</tr2:Uri></tr2:${operation}Response>`;
  }

  private async answer(operation: string, request: XmlNode | undefined, url: string): Promise<string | null> {
    const base = `http://${this.host}:${this.port}`;
    const profile = textAt(request, 'ProfileToken');
    if (this.options.media2 && url.startsWith('/onvif/media2_service'))
      return this.answerMedia2(operation, profile);
    switch (operation) {
      case 'GetSystemDateAndTime': {
        const d = new Date(this.nowMs());
        return (
          '<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType>' +
          '<tt:DaylightSavings>false</tt:DaylightSavings><tt:UTCDateTime>' +
          `<tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time>` +
          `<tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date>` +
          '</tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>'
        );
      }
      case 'GetDeviceInformation':
        return (
          `<tds:GetDeviceInformationResponse><tds:Manufacturer>${this.options.manufacturer ?? 'Simulator'}</tds:Manufacturer>` +
          `<tds:Model>${this.options.model ?? 'SIM-1'}</tds:Model><tds:FirmwareVersion>1.0</tds:FirmwareVersion>` +
          '<tds:SerialNumber>SIM0001</tds:SerialNumber><tds:HardwareId>sim</tds:HardwareId></tds:GetDeviceInformationResponse>'
        );
      case 'GetServices': {
        const service = (ns: string, p: string) =>
          `<tds:Service><tds:Namespace>${ns}</tds:Namespace><tds:XAddr>http://10.9.8.7${p}</tds:XAddr>` +
          '<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>';
        // The inner address 10.9.8.7 stands for a camera behind NAT: Vigil must use the device's own host.
        return (
          '<tds:GetServicesResponse>' +
          service('http://www.onvif.org/ver10/device/wsdl', '/onvif/device_service') +
          service('http://www.onvif.org/ver10/media/wsdl', '/onvif/media_service') +
          (this.options.media2
            ? service('http://www.onvif.org/ver20/media/wsdl', '/onvif/media2_service')
            : '') +
          (this.options.ptz ? service('http://www.onvif.org/ver20/ptz/wsdl', '/onvif/ptz_service') : '') +
          service('http://www.onvif.org/ver10/events/wsdl', '/onvif/event_service') +
          '</tds:GetServicesResponse>'
        );
      }
      case 'GetProfiles':
        return `<trt:GetProfilesResponse>${this.media1Profiles()
          .map((p) => this.profileXml(p))
          .join('')}</trt:GetProfilesResponse>`;
      case 'GetStreamUri':
      case 'GetSnapshotUri': {
        const found = this.media1Profiles().find((p) => p.token === profile);
        if (!found) return null;
        const uri = operation === 'GetStreamUri' ? found.uri : `${base}/snapshot/${found.token}.jpg`;
        return (
          `<trt:${operation}Response><trt:MediaUri><tt:Uri>${uri}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>` +
          `<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:${operation}Response>`
        );
      }
      case 'ContinuousMove': {
        const velocity = path(request, 'Velocity');
        this.ptzCalls.push({
          operation,
          profile,
          detail: {
            pan: attr(path(velocity, 'PanTilt'), 'x') ?? '',
            tilt: attr(path(velocity, 'PanTilt'), 'y') ?? '',
            zoom: attr(path(velocity, 'Zoom'), 'x') ?? '',
          },
        });
        return '<tptz:ContinuousMoveResponse/>';
      }
      case 'Stop':
      case 'GotoHomePosition':
        this.ptzCalls.push({ operation, profile, detail: {} });
        return `<tptz:${operation}Response/>`;
      case 'GetPresets':
        return (
          '<tptz:GetPresetsResponse>' +
          [...this.presets]
            .map(([token, name]) => `<tptz:Preset token="${token}"><tt:Name>${name}</tt:Name></tptz:Preset>`)
            .join('') +
          '</tptz:GetPresetsResponse>'
        );
      case 'GotoPreset':
      case 'RemovePreset': {
        const token = textAt(request, 'PresetToken');
        if (!this.presets.has(token)) return null;
        if (operation === 'RemovePreset') this.presets.delete(token);
        this.ptzCalls.push({ operation, profile, detail: { preset: token } });
        return `<tptz:${operation}Response/>`;
      }
      case 'SetPreset': {
        const token = textAt(request, 'PresetToken') || String(this.nextPreset++);
        this.presets.set(token, textAt(request, 'PresetName'));
        this.ptzCalls.push({ operation, profile, detail: { preset: token } });
        return `<tptz:SetPresetResponse><tptz:PresetToken>${token}</tptz:PresetToken></tptz:SetPresetResponse>`;
      }
      case 'CreatePullPointSubscription': {
        this.subscriptions += 1;
        const now = new Date(this.nowMs());
        return (
          '<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference>' +
          `<wsa5:Address>http://10.9.8.7/onvif/subscription/${this.subscriptions}</wsa5:Address></tev:SubscriptionReference>` +
          `<wsnt:CurrentTime>${now.toISOString()}</wsnt:CurrentTime>` +
          `<wsnt:TerminationTime>${new Date(now.getTime() + 60_000).toISOString()}</wsnt:TerminationTime>` +
          '</tev:CreatePullPointSubscriptionResponse>'
        );
      }
      case 'PullMessages': {
        if (!url.startsWith('/onvif/subscription/')) return null;
        if (this.queued.length === 0) await this.waitForMessage();
        const messages = this.queued.splice(0);
        const now = new Date(this.nowMs()).toISOString();
        return (
          `<tev:PullMessagesResponse><tev:CurrentTime>${now}</tev:CurrentTime>` +
          `<tev:TerminationTime>${now}</tev:TerminationTime>${messages.join('')}</tev:PullMessagesResponse>`
        );
      }
      case 'Renew':
        return `<wsnt:RenewResponse><wsnt:TerminationTime>${new Date(this.nowMs() + 60_000).toISOString()}</wsnt:TerminationTime></wsnt:RenewResponse>`;
      case 'Unsubscribe':
        this.unsubscribed += 1;
        return '<wsnt:UnsubscribeResponse/>';
      default:
        return null;
    }
  }

  private waitForMessage(): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiting.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, PULL_WAIT_CAP_MS);
      this.waiting.add(wake);
    });
  }

  private profile2Xml(p: SimulatedProfile): string {
    return (
      `<tr2:Profiles token="${p.token}" fixed="true"><tr2:Name>${p.name}</tr2:Name><tr2:Configurations>` +
      `<tr2:VideoEncoder token="enc_${p.token}" GovLength="20"><tt:Name>enc</tt:Name><tt:UseCount>1</tt:UseCount>` +
      `<tt:Encoding>${p.encoding}</tt:Encoding><tt:Resolution><tt:Width>${p.width}</tt:Width><tt:Height>${p.height}</tt:Height></tt:Resolution>` +
      `<tt:RateControl ConstantBitRate="false"><tt:FrameRateLimit>${p.fps}</tt:FrameRateLimit>` +
      '<tt:BitrateLimit>2048</tt:BitrateLimit></tt:RateControl><tt:Quality>5</tt:Quality></tr2:VideoEncoder>' +
      (this.options.ptz
        ? '<tr2:PTZ token="ptz0"><tt:Name>ptz</tt:Name><tt:UseCount>1</tt:UseCount></tr2:PTZ>'
        : '') +
      '</tr2:Configurations></tr2:Profiles>'
    );
  }

  private profileXml(p: SimulatedProfile): string {
    return (
      `<trt:Profiles token="${p.token}" fixed="true"><tt:Name>${p.name}</tt:Name>` +
      `<tt:VideoEncoderConfiguration token="enc_${p.token}"><tt:Name>enc</tt:Name><tt:UseCount>1</tt:UseCount>` +
      `<tt:Encoding>${p.encoding}</tt:Encoding><tt:Resolution><tt:Width>${p.width}</tt:Width><tt:Height>${p.height}</tt:Height></tt:Resolution>` +
      `<tt:Quality>5</tt:Quality><tt:RateControl><tt:FrameRateLimit>${p.fps}</tt:FrameRateLimit>` +
      '<tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>2048</tt:BitrateLimit></tt:RateControl>' +
      '</tt:VideoEncoderConfiguration>' +
      (this.options.ptz
        ? '<tt:PTZConfiguration token="ptz0"><tt:Name>ptz</tt:Name><tt:UseCount>1</tt:UseCount><tt:NodeToken>node0</tt:NodeToken></tt:PTZConfiguration>'
        : '') +
      '</trt:Profiles>'
    );
  }

  private async startDiscovery(): Promise<void> {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    this.discovery = socket;
    socket.on('message', (message, remote) => {
      let relatesTo = '';
      try {
        const envelope = path(parseXml(message.toString('utf8')), 'Envelope');
        const types = textAt(envelope, 'Body', 'Probe', 'Types');
        if (!/NetworkVideoTransmitter/.test(types) && types !== '') return;
        relatesTo = textAt(envelope, 'Header', 'MessageID');
      } catch {
        return;
      }
      const scopes = [
        'onvif://www.onvif.org/type/video_encoder',
        'onvif://www.onvif.org/Profile/Streaming',
        `onvif://www.onvif.org/name/${encodeURIComponent(this.options.model ?? 'SIM-1')}`,
        `onvif://www.onvif.org/hardware/${encodeURIComponent(this.options.model ?? 'SIM-1')}`,
        `onvif://www.onvif.org/manufacturer/${encodeURIComponent(this.options.manufacturer ?? 'Simulator')}`,
        'onvif://www.onvif.org/location/test%20bench',
      ].join(' ');
      const answer =
        '<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" ' +
        'xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" ' +
        'xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><SOAP-ENV:Header>' +
        `<wsa:MessageID>urn:uuid:${randomUUID()}</wsa:MessageID><wsa:RelatesTo>${relatesTo}</wsa:RelatesTo>` +
        '<wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action></SOAP-ENV:Header>' +
        '<SOAP-ENV:Body><d:ProbeMatches><d:ProbeMatch>' +
        `<wsa:EndpointReference><wsa:Address>${this.endpoint}</wsa:Address></wsa:EndpointReference>` +
        `<d:Types>dn:NetworkVideoTransmitter</d:Types><d:Scopes>${scopes}</d:Scopes>` +
        `<d:XAddrs>${this.deviceUrl}</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion>` +
        '</d:ProbeMatch></d:ProbeMatches></SOAP-ENV:Body></SOAP-ENV:Envelope>';
      socket.send(answer, remote.port, remote.address);
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(3702, () => resolve());
    });
    socket.addMembership('239.255.255.250', this.host);
    // Also on the default interface: a probe sent without choosing one leaves there, and the
    // kernel loops it back to members on this machine.
    try {
      socket.addMembership('239.255.255.250');
    } catch {
      // No multicast-capable default interface: loopback only.
    }
  }
}

function fault(subcode: string, reason: string): string {
  return (
    '<SOAP-ENV:Fault><SOAP-ENV:Code><SOAP-ENV:Value>SOAP-ENV:Sender</SOAP-ENV:Value>' +
    `<SOAP-ENV:Subcode><SOAP-ENV:Value>${subcode}</SOAP-ENV:Value></SOAP-ENV:Subcode></SOAP-ENV:Code>` +
    `<SOAP-ENV:Reason><SOAP-ENV:Text xml:lang="en">${reason}</SOAP-ENV:Text></SOAP-ENV:Reason></SOAP-ENV:Fault>`
  );
}
