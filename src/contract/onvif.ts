/**
 * ONVIF discovery, device probing, PTZ and camera events as the HTTP API and the push socket
 * show them: POST /api/onvif/discover, POST /api/onvif/probe, /api/cameras/:id/ptz/...
 */

/** A device that answered a WS-Discovery probe. */
export interface DiscoveredDevice {
  /** The device's endpoint reference (usually urn:uuid:...), stable across restarts. */
  endpoint: string;
  /** Device service addresses (XAddrs); the first is what probing uses. */
  addresses: string[];
  /** From the scopes; null when the device does not say. */
  name: string | null;
  hardware: string | null;
  manufacturer: string | null;
  location: string | null;
}

export interface DiscoverResponse {
  devices: DiscoveredDevice[];
  /** How long the answers were awaited. */
  durationMs: number;
}

/** One media profile of a device: an encoder setting and where its stream is. */
export interface OnvifProfileView {
  token: string;
  name: string;
  encoding: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
  bitrateKbps: number | null;
  /** RTSP address without credentials; null when the device would not say. */
  streamUri: string | null;
  snapshotUri: string | null;
  ptz: boolean;
}

export interface OnvifDeviceInfo {
  manufacturer: string;
  model: string;
  firmware: string;
  serial: string;
  hardwareId: string;
}

/** A proposed stream: its profile's RTSP address and the credentials to put into the camera. */
export interface ProposedStream {
  profile: string;
  url: string;
  user: string;
  width: number | null;
  height: number | null;
}

/** POST /api/onvif/probe: what the device is and the camera it proposes (POST /api/cameras saves it). */
export interface OnvifProbeResponse {
  /** The device service address that answered. */
  url: string;
  device: OnvifDeviceInfo;
  /** The camera's clock minus ours, as measured (WS-UsernameToken uses the camera's time). */
  clockOffsetMs: number;
  profiles: OnvifProfileView[];
  /** Main = highest resolution, sub = lowest (absent with a single profile). */
  proposal: { main: ProposedStream; sub: ProposedStream | null } | null;
  ptz: boolean;
  events: boolean;
}

export interface PtzPreset {
  token: string;
  name: string;
}

export interface PtzPresetList {
  presets: PtzPreset[];
}

/** What a camera's own analytics or inputs reported (ONVIF PullPoint). */
export type CameraEventKind = 'motion' | 'tamper' | 'line-crossing' | 'digital-input' | 'other';

/** A camera's own event, on the push socket as type 'camera-event'. */
export interface CameraDeviceEvent {
  cameraId: string;
  kind: CameraEventKind;
  /** Whether the condition started (true) or ended; momentary events (a crossing) are true. */
  active: boolean;
  /** The ONVIF topic without namespace prefixes, e.g. RuleEngine/CellMotionDetector/Motion. */
  topic: string;
  /** The event's source items (e.g. VideoSourceConfigurationToken, InputToken). */
  source: Record<string, string>;
  timeMs: number;
  /**
   * The camera's state as a new subscription begins (ONVIF PropertyOperation "Initialized"),
   * sent for every property whether anything happened or not: a state, not a change.
   */
  initial: boolean;
}
