import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { verifyWebhookSignature, webhookSignature } from '../../../src/notify/signature.js';

const SECRET = 'a-shared-secret-of-some-length';
const BODY = '{"id":"a1","summary":"Person at the gate"}';

test('the signature is HMAC-SHA256 of "<timestamp>.<body>", hex, prefixed sha256=', () => {
  const expected = createHmac('sha256', SECRET).update(`1700000000.${BODY}`).digest('hex');
  assert.equal(webhookSignature(SECRET, 1700000000, BODY), `sha256=${expected}`);
});

test('a receiver accepts the right signature within the tolerance, and nothing else', () => {
  const signature = webhookSignature(SECRET, 1700000000, BODY);
  const ok = (headers: { timestamp: string; signature: string }, body = BODY, nowS = 1700000100) =>
    verifyWebhookSignature(SECRET, headers, body, nowS);
  assert.equal(ok({ timestamp: '1700000000', signature }), true);
  // Replayed later than five minutes: refused.
  assert.equal(ok({ timestamp: '1700000000', signature }, BODY, 1700000301), false);
  // A new timestamp on the old signature: refused.
  assert.equal(ok({ timestamp: '1700000090', signature }), false);
  assert.equal(ok({ timestamp: '1700000000', signature }, `${BODY} `), false);
  assert.equal(ok({ timestamp: '1700000000', signature: signature.slice(0, -1) }), false);
  assert.equal(ok({ timestamp: 'x', signature }), false);
  assert.equal(
    verifyWebhookSignature('another secret..', { timestamp: '1700000000', signature }, BODY, 1700000000),
    false,
  );
});
