/**
 * The parts of an SDP description (RFC 8866) an RTSP client needs: each media section's payload
 * type, codec, clock rate, format parameters and control URL. Pure.
 */

export interface SdpMedia {
  /** 'video', 'audio', 'application'… */
  kind: string;
  payloadType: number;
  /** From a=rtpmap, upper-cased as registered ('H264', 'H265', 'MPEG4-GENERIC', 'PCMU'…); '' if absent. */
  encoding: string;
  clockRate: number;
  /** Audio channels from a=rtpmap, when given. */
  channels?: number;
  /** a=fmtp parameters for this payload type, keys lower-cased. */
  fmtp: Map<string, string>;
  /** a=control as written (absolute or relative), '' if absent. */
  control: string;
  /**
   * a=sendonly / recvonly / inactive of the section, else sendrecv. An ONVIF audio backchannel
   * (the client sends to the camera's speaker) is the section marked sendonly.
   */
  direction: SdpDirection;
}

export type SdpDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
const DIRECTIONS: ReadonlySet<string> = new Set<SdpDirection>([
  'sendrecv',
  'sendonly',
  'recvonly',
  'inactive',
]);

export interface Sdp {
  /** Session-level a=control, '' if absent. */
  control: string;
  media: SdpMedia[];
}

/** Descriptions larger than this are refused: a camera's is a few hundred bytes. */
export const MAX_SDP_BYTES = 64 * 1024;

export class SdpError extends Error {}

/** Parses an SDP description; throws SdpError when it has no media section at all. */
export function parseSdp(text: string): Sdp {
  if (text.length > MAX_SDP_BYTES) {
    throw new SdpError(`the SDP description is ${text.length} bytes, more than the ${MAX_SDP_BYTES} allowed`);
  }
  const sdp: Sdp = { control: '', media: [] };
  let current: SdpMedia | null = null;
  const rtpmaps = new Map<SdpMedia, Map<number, string>>();
  const fmtps = new Map<SdpMedia, Map<number, string>>();
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line.length < 2 || line[1] !== '=') continue;
    const type = line[0];
    const value = line.slice(2);
    if (type === 'm') {
      const [kind = '', , , ...formats] = value.split(/\s+/);
      current = {
        kind,
        payloadType: Number(formats[0] ?? -1),
        encoding: '',
        clockRate: 0,
        fmtp: new Map(),
        control: '',
        direction: 'sendrecv',
      };
      sdp.media.push(current);
      rtpmaps.set(current, new Map());
      fmtps.set(current, new Map());
      continue;
    }
    if (type !== 'a') continue;
    const colon = value.indexOf(':');
    const name = (colon < 0 ? value : value.slice(0, colon)).toLowerCase();
    const rest = colon < 0 ? '' : value.slice(colon + 1).trim();
    if (current && DIRECTIONS.has(name)) {
      current.direction = name as SdpDirection;
    } else if (name === 'control') {
      if (current) current.control = rest;
      else sdp.control = rest;
    } else if (current && (name === 'rtpmap' || name === 'fmtp')) {
      const space = rest.search(/\s/);
      const pt = Number(space < 0 ? rest : rest.slice(0, space));
      const body = space < 0 ? '' : rest.slice(space + 1).trim();
      (name === 'rtpmap' ? rtpmaps : fmtps).get(current)?.set(pt, body);
    }
  }
  if (sdp.media.length === 0) throw new SdpError('the SDP description has no media section (m= line)');
  for (const media of sdp.media) {
    const rtpmap = rtpmaps.get(media)?.get(media.payloadType);
    if (rtpmap) {
      const [encoding = '', clock = '0', channels] = rtpmap.split('/');
      media.encoding = encoding.toUpperCase();
      media.clockRate = Number(clock) || 0;
      if (channels) media.channels = Number(channels);
    } else {
      Object.assign(media, staticPayload(media.payloadType));
    }
    media.fmtp = parseFmtp(fmtps.get(media)?.get(media.payloadType) ?? '');
  }
  return sdp;
}

/** RFC 3551's static payload types that cameras send without a=rtpmap. */
function staticPayload(pt: number): Pick<SdpMedia, 'encoding' | 'clockRate'> {
  if (pt === 0) return { encoding: 'PCMU', clockRate: 8000 };
  if (pt === 8) return { encoding: 'PCMA', clockRate: 8000 };
  if (pt === 26) return { encoding: 'JPEG', clockRate: 90000 };
  return { encoding: '', clockRate: 0 };
}

function parseFmtp(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    // Values (base64 parameter sets) may themselves contain '=': split at the first only.
    out.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return out;
}

/**
 * The URL to SETUP a media section with (RFC 2326 C.1.1): an absolute control as is, '*' or none
 * as the base itself, a relative one appended to the base. The base is Content-Base, else
 * Content-Location, else the request URL. Cameras often give a base without the trailing '/', or
 * with a query, and expect the control after it all (as ffmpeg and live555 send it), so a relative
 * control is appended with one '/' rather than resolved as a relative URL.
 */
export function resolveControl(base: string, control: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(control)) return control;
  if (control === '' || control === '*') return base;
  return base.endsWith('/') ? base + control : `${base}/${control}`;
}
