import { Value } from '@sinclair/typebox/value';
import { joinPath, type ConfigProblem } from './problems.js';
import { NotifySchema } from './schema.js';

/** One webhook after loading: the secret is a secret (keep it out of logs and answers). */
export interface WebhookConfig {
  readonly id: string;
  readonly url: string;
  readonly secret: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

export interface NotifyConfig {
  readonly webhooks: readonly WebhookConfig[];
  /** The VAPID subject: a mailto: or https: address. */
  readonly pushContact: string;
}

/** Headers Vigil sets itself: a webhook's `headers` may not replace them. */
const RESERVED_HEADER = /^(content-type|content-length|host|transfer-encoding|connection|x-vigil-.*)$/i;

function webhookUrlProblem(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an http:// or https:// URL, e.g. https://hooks.example.org/vigil';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return `must be http:// or https://, not ${url.protocol}`;
  if (url.username !== '' || url.password !== '') {
    return "takes no user or password: put a token in 'headers' (e.g. Authorization) instead";
  }
  return null;
}

/** Checks what the schema cannot: URLs, unique ids, headers Vigil owns. Undefined when wrong. */
export function normaliseNotify(input: unknown, problems: ConfigProblem[]): NotifyConfig | undefined {
  if (!Value.Check(NotifySchema, input)) return undefined;
  const before = problems.length;
  const seen = new Set<string>();
  const webhooks = (input.webhooks ?? []).map((hook, index): WebhookConfig => {
    const at = (key: string) => joinPath(joinPath('notify.webhooks', index), key);
    if (seen.has(hook.id)) problems.push({ path: at('id'), message: `duplicate webhook id '${hook.id}'` });
    seen.add(hook.id);
    // Not echoed: the URL may carry a token in its query.
    const urlProblem = webhookUrlProblem(hook.url);
    if (urlProblem !== null) problems.push({ path: at('url'), message: urlProblem });
    for (const name of Object.keys(hook.headers ?? {})) {
      if (RESERVED_HEADER.test(name)) {
        problems.push({
          path: joinPath(at('headers'), name),
          message: 'is set by Vigil and cannot be replaced',
        });
      }
    }
    return {
      id: hook.id,
      url: hook.url,
      secret: hook.secret,
      headers: { ...(hook.headers ?? {}) },
      timeoutMs: hook.timeoutMs ?? 10000,
    };
  });
  if (problems.length > before) return undefined;
  return { webhooks, pushContact: input.pushContact ?? 'mailto:vigil@localhost.invalid' };
}
