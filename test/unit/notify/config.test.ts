import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatProblems, parseConfigText, type ConfigProblem } from '../../../src/config/index.js';
import { VigilError } from '../../../src/errors/catalogue.js';

function parse(text: string, env: Record<string, string> = {}) {
  return parseConfigText(text, { baseDir: '/etc/vigil', env, sourceName: 'vigil.yaml' }).config;
}

function problems(text: string): ConfigProblem[] {
  try {
    parse(text);
  } catch (err) {
    assert.ok(err instanceof VigilError && err.code === 'CONFIG_INVALID', String(err));
    return err.details?.['problems'] as ConfigProblem[];
  }
  return assert.fail('expected the config to be rejected');
}

test('webhooks: defaults, and the secret from the environment', () => {
  const config = parse(
    `
notify:
  webhooks:
    - { id: ha, url: "https://hooks.example.org/vigil", secret: "\${HOOK_SECRET}", headers: { Authorization: "Bearer t" } }
  pushContact: "mailto:admin@example.org"
`,
    { HOOK_SECRET: 's3cret-from-the-environment' },
  );
  assert.deepEqual(config.notify, {
    webhooks: [
      {
        id: 'ha',
        url: 'https://hooks.example.org/vigil',
        secret: 's3cret-from-the-environment',
        headers: { Authorization: 'Bearer t' },
        timeoutMs: 10000,
      },
    ],
    pushContact: 'mailto:admin@example.org',
  });
});

test('webhooks: http(s) only, no credentials in the URL, unique ids, Vigil owns its headers', () => {
  const found = problems(`
notify:
  webhooks:
    - { id: a, url: "ftp://x.example.org/", secret: "0123456789abcdef" }
    - { id: a, url: "https://user:pw@x.example.org/", secret: "0123456789abcdef" }
    - { id: c, url: "https://x.example.org/", secret: "0123456789abcdef", headers: { X-Vigil-Signature: "x", content-type: "y" } }
`);
  const text = formatProblems(new VigilError('CONFIG_INVALID', 'x', { problems: found })).join('\n');
  const at = (path: string) => found.find((p) => p.path === path)?.message ?? `nothing at ${path}:\n${text}`;
  assert.match(at('notify.webhooks[0].url'), /http:\/\/ or https:\/\//);
  assert.match(at('notify.webhooks[1].url'), /no user or password/);
  assert.doesNotMatch(text, /pw@/, 'the URL is not echoed');
  assert.ok(
    problems('notify: { webhooks: [{ id: d, url: "https://x.example.org/", secret: "short" }] }').some(
      (p) => p.path === 'notify.webhooks[0].secret',
    ),
  );
  // The schema's problem is reported first; the rest follow once it is fixed.
  const second = problems(`
notify:
  webhooks:
    - { id: a, url: "https://x.example.org/", secret: "0123456789abcdef" }
    - { id: a, url: "https://y.example.org/", secret: "0123456789abcdef", headers: { X-Vigil-Signature: "x", content-type: "y" } }
`);
  const paths = second.map((p) => p.path);
  assert.ok(paths.includes('notify.webhooks[1].id'), paths.join(', '));
  assert.ok(paths.includes('notify.webhooks[1].headers.X-Vigil-Signature'), paths.join(', '));
  assert.ok(paths.includes('notify.webhooks[1].headers.content-type'), paths.join(', '));
});

test('the push contact is a mailto: or https: address', () => {
  assert.ok(
    problems('notify: { pushContact: "admin@example.org" }').some((p) => p.path === 'notify.pushContact'),
  );
});
