/**
 * Readers of ONVIF answers: pure functions from SOAP text to typed values, tested against
 * recorded answers of real camera models (test/fixtures/onvif).
 */
import type {
  CameraDeviceEvent,
  CameraEventKind,
  DiscoveredDevice,
  OnvifDeviceInfo,
  PtzPreset,
} from '../contract/onvif.js';
import { attr, children, numberAt, parseXml, path, text, textAt, type XmlNode } from './xml.js';

/** The Body of an envelope. */
export function soapBody(xml: string): XmlNode | undefined {
  return path(parseXml(xml), 'Envelope', 'Body');
}

export interface SoapFault {
  code: string;
  subcode: string;
  reason: string;
}

/** A SOAP 1.2 (or 1.1) fault in a body, or null. */
export function soapFault(body: XmlNode | undefined): SoapFault | null {
  const fault = path(body, 'Fault');
  if (fault === undefined) return null;
  const subcode =
    textAt(fault, 'Code', 'Subcode', 'Value') || textAt(fault, 'Code', 'Subcode', 'Subcode', 'Value');
  return {
    code: textAt(fault, 'Code', 'Value') || textAt(fault, 'faultcode'),
    subcode: localName(subcode),
    reason: textAt(fault, 'Reason', 'Text') || textAt(fault, 'faultstring'),
  };
}

/** `ter:NotAuthorized` → `NotAuthorized`. */
function localName(qname: string): string {
  return qname.replace(/^.*:/, '');
}

/** GetSystemDateAndTime: the camera's UTC clock in ms, or null when it gives only local time. */
export function parseSystemTime(body: XmlNode | undefined): number | null {
  const utc = path(body, 'GetSystemDateAndTimeResponse', 'SystemDateAndTime', 'UTCDateTime');
  if (utc === undefined) return null;
  const part = (...names: string[]): number => numberAt(utc, ...names) ?? Number.NaN;
  const ms = Date.UTC(
    part('Date', 'Year'),
    part('Date', 'Month') - 1,
    part('Date', 'Day'),
    part('Time', 'Hour'),
    part('Time', 'Minute'),
    part('Time', 'Second'),
  );
  return Number.isFinite(ms) ? ms : null;
}

export function parseDeviceInformation(body: XmlNode | undefined): OnvifDeviceInfo {
  const info = path(body, 'GetDeviceInformationResponse');
  return {
    manufacturer: textAt(info, 'Manufacturer'),
    model: textAt(info, 'Model'),
    firmware: textAt(info, 'FirmwareVersion'),
    serial: textAt(info, 'SerialNumber'),
    hardwareId: textAt(info, 'HardwareId'),
  };
}

/** Where a device's services are; null for a service it does not have. */
export interface ServiceAddresses {
  media: string | null;
  /** Media2 (ONVIF Profile T): the only way many cameras describe H.265 streams. */
  media2: string | null;
  ptz: string | null;
  events: string | null;
}

/** GetServices: services by namespace (ver10 and ver20 media; ver20 PTZ; ver10 events). */
export function parseServices(body: XmlNode | undefined): ServiceAddresses {
  const found = new Map<string, string>();
  for (const service of children(path(body, 'GetServicesResponse'), 'Service')) {
    found.set(textAt(service, 'Namespace'), textAt(service, 'XAddr'));
  }
  return {
    media: found.get('http://www.onvif.org/ver10/media/wsdl') ?? null,
    media2: found.get('http://www.onvif.org/ver20/media/wsdl') ?? null,
    ptz: found.get('http://www.onvif.org/ver20/ptz/wsdl') ?? null,
    events: found.get('http://www.onvif.org/ver10/events/wsdl') ?? null,
  };
}

/** GetCapabilities, for devices older than GetServices (ONVIF before 2.0). */
export function parseCapabilities(body: XmlNode | undefined): ServiceAddresses {
  const caps = path(body, 'GetCapabilitiesResponse', 'Capabilities');
  const address = (name: string): string | null => textAt(caps, name, 'XAddr') || null;
  return { media: address('Media'), media2: null, ptz: address('PTZ'), events: address('Events') };
}

export interface MediaProfile {
  token: string;
  name: string;
  encoding: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
  bitrateKbps: number | null;
  ptz: boolean;
}

/** A profile from its element, its video encoder's element and whether it has PTZ. */
function mediaProfile(
  profile: XmlNode | undefined,
  encoder: XmlNode | undefined,
  ptz: boolean,
): MediaProfile {
  return {
    token: attr(profile, 'token') ?? '',
    name: textAt(profile, 'Name'),
    encoding: textAt(encoder, 'Encoding') || null,
    width: numberAt(encoder, 'Resolution', 'Width'),
    height: numberAt(encoder, 'Resolution', 'Height'),
    fps: numberAt(encoder, 'RateControl', 'FrameRateLimit'),
    bitrateKbps: numberAt(encoder, 'RateControl', 'BitrateLimit'),
    ptz,
  };
}

/** Media GetProfiles: each profile's video encoder settings and whether it has a PTZ configuration. */
export function parseProfiles(body: XmlNode | undefined): MediaProfile[] {
  return children(path(body, 'GetProfilesResponse'), 'Profiles').map((profile) =>
    mediaProfile(
      profile,
      path(profile, 'VideoEncoderConfiguration'),
      path(profile, 'PTZConfiguration') !== undefined,
    ),
  );
}

/**
 * Media2 GetProfiles (Type All): the same facts, from each profile's Configurations. Encodings
 * are the RFC 6381 style names Media2 uses (H264, H265), resolution and rate as in Media.
 */
export function parseProfiles2(body: XmlNode | undefined): MediaProfile[] {
  return children(path(body, 'GetProfilesResponse'), 'Profiles').map((profile) => {
    const configurations = path(profile, 'Configurations');
    return mediaProfile(
      profile,
      path(configurations, 'VideoEncoder'),
      path(configurations, 'PTZ') !== undefined,
    );
  });
}

/** Media2 GetStreamUri / GetSnapshotUri: the Uri, or null. */
export function parseUri2(body: XmlNode | undefined, response: string): string | null {
  return textAt(body, response, 'Uri') || null;
}

/** GetStreamUri / GetSnapshotUri: the MediaUri's Uri, or null. */
export function parseMediaUri(body: XmlNode | undefined, response: string): string | null {
  return textAt(body, response, 'MediaUri', 'Uri') || null;
}

export function parsePresets(body: XmlNode | undefined): PtzPreset[] {
  return children(path(body, 'GetPresetsResponse'), 'Preset').map((preset) => ({
    token: attr(preset, 'token') ?? '',
    name: textAt(preset, 'Name'),
  }));
}

export function parseSetPreset(body: XmlNode | undefined): string {
  return textAt(body, 'SetPresetResponse', 'PresetToken');
}

export interface PullPointSubscription {
  address: string;
  terminationTimeMs: number | null;
}

export function parseSubscription(body: XmlNode | undefined): PullPointSubscription {
  const response = path(body, 'CreatePullPointSubscriptionResponse');
  const termination = Date.parse(textAt(response, 'TerminationTime'));
  return {
    address: textAt(response, 'SubscriptionReference', 'Address'),
    terminationTimeMs: Number.isFinite(termination) ? termination : null,
  };
}

/** Data items that say whether a condition holds, by topic family. */
const STATE_ITEMS = ['IsMotion', 'State', 'IsTamper', 'LogicalState', 'IsInside', 'Value'];

/** What kind of event a topic (prefixes removed) is. */
export function eventKind(topic: string): CameraEventKind {
  if (/CellMotionDetector|MotionRegionDetector|VideoSource\/MotionAlarm/i.test(topic)) return 'motion';
  if (/Tamper|GlobalSceneChange/i.test(topic)) return 'tamper';
  if (/LineDetector|LineCrossing|Crossed/i.test(topic)) return 'line-crossing';
  if (/DigitalInput|LogicalState/i.test(topic)) return 'digital-input';
  return 'other';
}

function simpleItems(node: XmlNode | undefined): Record<string, string> {
  const items: Record<string, string> = {};
  for (const item of children(node, 'SimpleItem')) {
    const name = attr(item, 'Name');
    if (name !== undefined) items[name] = attr(item, 'Value') ?? '';
  }
  return items;
}

function isTrue(value: string): boolean {
  return value === 'true' || value === '1';
}

/** PullMessages: the notifications, as camera events of `cameraId` (prefixes stripped from topics). */
export function parseNotifications(
  body: XmlNode | undefined,
  cameraId: string,
  fallbackTimeMs: number,
): CameraDeviceEvent[] {
  return children(path(body, 'PullMessagesResponse'), 'NotificationMessage').map((notification) => {
    const topic = (text(path(notification, 'Topic')) ?? '')
      .split('/')
      .map((segment) => segment.replace(/^[^:]*:/, ''))
      .join('/');
    const message = path(notification, 'Message', 'Message');
    const data = simpleItems(path(message, 'Data'));
    const stateItem = STATE_ITEMS.find((name) => name in data);
    const timeMs = Date.parse(attr(message, 'UtcTime') ?? '');
    const kind = eventKind(topic);
    return {
      cameraId,
      kind,
      // A crossing has no "state": it happened. Others hold their Data flag.
      active: stateItem === undefined ? true : isTrue(data[stateItem] ?? ''),
      topic,
      source: simpleItems(path(message, 'Source')),
      timeMs: Number.isFinite(timeMs) ? timeMs : fallbackTimeMs,
      initial: attr(message, 'PropertyOperation') === 'Initialized',
    };
  });
}

/** `onvif://www.onvif.org/name/Front%20Door` style scopes, by key (name, hardware, location, mfr). */
function scopeValues(scopes: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const scope of scopes.split(/\s+/)) {
    const match = /^onvif:\/\/www\.onvif\.org\/([^/]+)\/(.+)$/i.exec(scope);
    if (!match?.[1] || match[2] === undefined) continue;
    let value = match[2];
    try {
      value = decodeURIComponent(value);
    } catch {
      // A malformed escape stays as sent.
    }
    if (!values.has(match[1].toLowerCase())) values.set(match[1].toLowerCase(), value);
  }
  return values;
}

/** WS-Discovery ProbeMatches: the devices in one answer. */
export function parseProbeMatches(xml: string): DiscoveredDevice[] {
  const matches = path(parseXml(xml), 'Envelope', 'Body', 'ProbeMatches');
  return children(matches, 'ProbeMatch').map((match) => {
    const scopes = scopeValues(textAt(match, 'Scopes'));
    return {
      endpoint: textAt(match, 'EndpointReference', 'Address'),
      addresses: textAt(match, 'XAddrs')
        .split(/\s+/)
        .filter((a) => a !== ''),
      name: scopes.get('name') ?? null,
      hardware: scopes.get('hardware') ?? null,
      manufacturer: scopes.get('manufacturer') ?? scopes.get('mfr') ?? null,
      location: scopes.get('location') ?? null,
    };
  });
}
