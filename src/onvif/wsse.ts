import { createHash } from 'node:crypto';
import { escapeXml } from './xml.js';

/** The namespaces ONVIF requests use. */
export const NS = {
  soap: 'http://www.w3.org/2003/05/soap-envelope',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  wsa: 'http://www.w3.org/2005/08/addressing',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tr2: 'http://www.onvif.org/ver20/media/wsdl',
  tptz: 'http://www.onvif.org/ver20/ptz/wsdl',
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  tt: 'http://www.onvif.org/ver10/schema',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
} as const;

const PASSWORD_DIGEST =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';
const BASE64_BINARY =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary';

/** WS-UsernameToken PasswordDigest: Base64(SHA-1(nonce bytes + created + password)). */
export function passwordDigest(nonce: Buffer, created: string, password: string): string {
  return createHash('sha1')
    .update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')]))
    .digest('base64');
}

export interface Credentials {
  user: string;
  password: string;
}

/**
 * The Security header. `created` is the camera's clock (ours plus the offset measured with
 * GetSystemDateAndTime): cameras refuse tokens whose time is far from their own.
 */
export function usernameToken(credentials: Credentials, nonce: Buffer, createdMs: number): string {
  const created = new Date(createdMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const digest = passwordDigest(nonce, created, credentials.password);
  return (
    `<wsse:Security s:mustUnderstand="1" xmlns:wsse="${NS.wsse}" xmlns:wsu="${NS.wsu}">` +
    `<wsse:UsernameToken><wsse:Username>${escapeXml(credentials.user)}</wsse:Username>` +
    `<wsse:Password Type="${PASSWORD_DIGEST}">${digest}</wsse:Password>` +
    `<wsse:Nonce EncodingType="${BASE64_BINARY}">${nonce.toString('base64')}</wsse:Nonce>` +
    `<wsu:Created>${created}</wsu:Created></wsse:UsernameToken></wsse:Security>`
  );
}

/** WS-Addressing headers: event subscriptions are addressed by them on many cameras. */
export function addressing(action: string, to: string): string {
  return (
    `<wsa:Action xmlns:wsa="${NS.wsa}">${escapeXml(action)}</wsa:Action>` +
    `<wsa:To xmlns:wsa="${NS.wsa}">${escapeXml(to)}</wsa:To>`
  );
}

/** A SOAP 1.2 envelope with the ONVIF namespaces declared once. */
export function envelope(body: string, headers = ''): string {
  const xmlns = Object.entries(NS)
    .filter(([prefix]) => prefix !== 'wsse' && prefix !== 'wsu' && prefix !== 'wsa')
    .map(([prefix, uri]) => `xmlns:${prefix === 'soap' ? 's' : prefix}="${uri}"`)
    .join(' ');
  return (
    `<?xml version="1.0" encoding="UTF-8"?><s:Envelope ${xmlns}>` +
    `<s:Header>${headers}</s:Header><s:Body>${body}</s:Body></s:Envelope>`
  );
}
