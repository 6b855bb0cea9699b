import { randomBytes } from 'node:crypto';
import { VigilError } from '../errors/catalogue.js';
import { digestAuthorization, parseDigestChallenge } from './digest-auth.js';
import { soapBody, soapFault } from './parse.js';
import { addressing, envelope, usernameToken, type Credentials } from './wsse.js';
import type { XmlNode } from './xml.js';

/** How long one SOAP request may take; PullMessages adds its own wait on top. */
export const SOAP_TIMEOUT_MS = 8_000;

export interface SoapOptions {
  credentials: Credentials | null;
  /** The camera's clock minus ours (GetSystemDateAndTime), for the token's Created time. */
  clockOffsetMs: number;
  nowMs: () => number;
}

export interface SoapCall {
  url: string;
  /** The SOAP action URI (also sent in the Content-Type, as SOAP 1.2 says). */
  action: string;
  body: string;
  /** Add WS-Addressing Action and To (event subscriptions). */
  addressed?: boolean;
  timeoutMs?: number;
}

/**
 * One SOAP request to an ONVIF service. The WS-UsernameToken goes in every request that has
 * credentials; a device that answers 401 with an HTTP Digest challenge gets the request again
 * with Digest authorization (some firmwares want HTTP Digest instead of, or besides, the token).
 * A fault becomes ONVIF_AUTH_FAILED (NotAuthorized) or ONVIF_FAULT.
 */
export async function soapRequest(call: SoapCall, options: SoapOptions): Promise<XmlNode | undefined> {
  const headers: string[] = [];
  if (options.credentials !== null) {
    headers.push(
      usernameToken(options.credentials, randomBytes(16), options.nowMs() + options.clockOffsetMs),
    );
  }
  if (call.addressed) headers.push(addressing(call.action, call.url));
  const payload = envelope(call.body, headers.join(''));
  let response = await post(call, payload, null);
  if (response.status === 401 && options.credentials !== null) {
    const challenge = parseDigestChallenge(response.headers.get('www-authenticate'));
    if (challenge !== null) {
      const uri = new URL(call.url);
      const authorization = digestAuthorization(
        challenge,
        options.credentials,
        'POST',
        uri.pathname + uri.search,
        randomBytes(8).toString('hex'),
      );
      response = await post(call, payload, authorization);
    }
  }
  return readAnswer(call, response);
}

async function post(call: SoapCall, payload: string, authorization: string | null): Promise<Response> {
  try {
    return await fetch(call.url, {
      method: 'POST',
      headers: {
        'content-type': `application/soap+xml; charset=utf-8; action="${call.action}"`,
        ...(authorization !== null ? { authorization } : {}),
      },
      body: payload,
      redirect: 'error',
      signal: AbortSignal.timeout(call.timeoutMs ?? SOAP_TIMEOUT_MS),
    });
  } catch (err) {
    throw new VigilError(
      'ONVIF_UNREACHABLE',
      `the ONVIF device at ${safeUrl(call.url)} did not answer: ${(err as Error).message}`,
    );
  }
}

/** Answers are a few kB (GetProfiles of a 16-channel encoder ~100 kB); more is not a camera. */
const MAX_ANSWER_BYTES = 2 * 1024 * 1024;

async function readAnswer(call: SoapCall, response: Response): Promise<XmlNode | undefined> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_ANSWER_BYTES) {
    await response.body?.cancel();
    throw new VigilError(
      'ONVIF_UNREACHABLE',
      `the device at ${safeUrl(call.url)} sent ${declared} bytes: not SOAP`,
    );
  }
  const text = await response.text();
  if (text.length > MAX_ANSWER_BYTES) {
    throw new VigilError(
      'ONVIF_UNREACHABLE',
      `the device at ${safeUrl(call.url)} sent more than 2 MB: not SOAP`,
    );
  }
  let body: XmlNode | undefined;
  try {
    body = soapBody(text);
  } catch {
    body = undefined;
  }
  const fault = soapFault(body);
  if (
    response.status === 401 ||
    fault?.subcode === 'NotAuthorized' ||
    fault?.subcode === 'FailedAuthentication'
  ) {
    throw new VigilError(
      'ONVIF_AUTH_FAILED',
      `the ONVIF device at ${safeUrl(call.url)} refused the user name or password` +
        (fault?.reason ? ` (${fault.reason})` : ''),
    );
  }
  if (fault !== null) {
    throw new VigilError(
      'ONVIF_FAULT',
      `the ONVIF device at ${safeUrl(call.url)} refused ${actionName(call.action)}: ` +
        `${fault.reason || fault.subcode || fault.code}`,
      { subcode: fault.subcode },
    );
  }
  if (!response.ok || body === undefined) {
    throw new VigilError(
      'ONVIF_UNREACHABLE',
      `the device at ${safeUrl(call.url)} answered ${actionName(call.action)} with HTTP ${response.status}, not SOAP`,
    );
  }
  return body;
}

function actionName(action: string): string {
  return action.replace(/^.*\//, '');
}

/** A URL for messages: never its user information. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(an invalid address)';
  }
}
