import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header names of a signed webhook request (docs/ref/webhooks.md). */
export const TIMESTAMP_HEADER = 'x-vigil-timestamp';
export const SIGNATURE_HEADER = 'x-vigil-signature';
export const DELIVERY_HEADER = 'x-vigil-delivery';

/**
 * `sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<body>` with the webhook's secret. The timestamp
 * (Unix seconds) is signed with the body so that a receiver can refuse an old request replayed.
 */
export function webhookSignature(secret: string, timestampS: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex')}`;
}

/**
 * What a receiver checks: the signature matches and the timestamp is within `toleranceS` of its
 * clock. Exported for the tests and as the reference the docs' samples follow.
 */
export function verifyWebhookSignature(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  body: string,
  nowS: number,
  toleranceS = 300,
): boolean {
  const timestampS = Number(headers.timestamp);
  if (!Number.isInteger(timestampS) || Math.abs(nowS - timestampS) > toleranceS) return false;
  const expected = Buffer.from(webhookSignature(secret, timestampS, body));
  const given = Buffer.from(headers.signature ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
