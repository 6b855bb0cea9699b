import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Type } from '@sinclair/typebox';
import Fastify from 'fastify';
import { errors, serializeWithoutSchemas } from '../../../src/api/openapi.js';

test('answers are sent whole, whatever their response schema lists', async () => {
  const answer = { listed: 1, unlisted: 'kept' };
  const sent = async (describeOnly: boolean) => {
    const app = Fastify();
    if (describeOnly) serializeWithoutSchemas(app);
    app.get(
      '/x',
      { schema: { response: { 200: Type.Object({ listed: Type.Number() }) } } },
      async () => answer,
    );
    const res = await app.inject('/x');
    await app.close();
    return JSON.parse(res.body) as unknown;
  };
  // What the schemas would do to answers if they were used to serialize: the reason for it.
  assert.deepEqual(await sent(false), { listed: 1 });
  assert.deepEqual(await sent(true), answer);
});

test('error answers are grouped by HTTP status, each listing its codes', () => {
  const answers = errors('CAMERA_NOT_FOUND', 'CAMERA_EXISTS', 'STREAM_NOT_FOUND');
  assert.deepEqual(Object.keys(answers).sort(), ['404', '409']);
  assert.equal(answers['404']?.$ref, 'ApiError#');
  assert.match(answers['404']?.description ?? '', /^- `CAMERA_NOT_FOUND`: .*\n- `STREAM_NOT_FOUND`: /);
  assert.match(
    answers['409']?.description ?? '',
    /^- `CAMERA_EXISTS`: A camera with this id exists already\.$/,
  );
});
