import type { TSchema } from '@sinclair/typebox';
import { docDefaultFor, isSizeSchema, VigilConfigSchema } from './schema.js';

/**
 * docs/ref/config.schema.json and docs/ref/config.md, generated from the schema by
 * scripts/gen-config-docs.ts; a unit test fails when the committed files differ.
 */

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON Schema of the config file, for editors (yaml-language-server) and other tools. */
export function configJsonSchema(): Record<string, unknown> {
  // JSON round trip: drops TypeBox's symbol keys, which are not part of the JSON Schema.
  const schema = JSON.parse(JSON.stringify(VigilConfigSchema)) as Record<string, unknown>;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    description: 'The configuration file of Vigil. Reference: docs/ref/config.md.',
    ...schema,
  };
}

interface Row {
  key: string;
  type: string;
  defaultText: string;
  description: string;
}

function anchor(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

function code(text: string): string {
  return `\`${text}\``;
}

/** One choice of a union: a constant, an object told by its `type` (rule conditions), or a type. */
function variantText(variant: TSchema): string {
  if ('const' in variant) return code(String(variant['const']));
  const properties: unknown = variant['properties'];
  const tag: unknown = isRecord(properties) ? properties['type'] : undefined;
  if (isRecord(tag)) {
    const names = Array.isArray(tag['anyOf']) ? (tag['anyOf'] as TSchema[]) : [tag as TSchema];
    return code(`type: ${names.map((n) => String(n['const'])).join(' or ')}`);
  }
  return typeText(variant);
}

function typeText(schema: TSchema): string {
  if (isSizeSchema(schema)) return 'size';
  const variants: unknown = schema['anyOf'];
  if (Array.isArray(variants)) {
    return variants.map((v: unknown) => (isRecord(v) ? variantText(v as TSchema) : '?')).join(' \\| ');
  }
  const title = typeof schema['title'] === 'string' ? schema['title'] : undefined;
  const min: unknown = schema['minimum'];
  const max: unknown = schema['maximum'];
  const exclusiveMin: unknown = schema['exclusiveMinimum'];
  switch (schema['type']) {
    case 'integer':
    case 'number': {
      const name = schema['type'];
      if (typeof min === 'number' && typeof max === 'number') return `${name}, ${min} to ${max}`;
      if (typeof min === 'number') return `${name} ≥ ${min}`;
      if (typeof exclusiveMin === 'number') return `${name} > ${exclusiveMin}`;
      return name;
    }
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'array': {
      const items = schema['items'] as TSchema;
      const itemTitle = typeof items['title'] === 'string' ? items['title'] : undefined;
      return itemTitle ? `list of [${itemTitle}](#${anchor(itemTitle)})` : `list of ${typeText(items)}`;
    }
    case 'object':
      return title ? `[${title}](#${anchor(title)})` : 'section';
    default:
      return String(schema['type']);
  }
}

function defaultText(schema: TSchema, required: boolean): string {
  if (required) return '**required**';
  const computed = docDefaultFor(schema);
  if (computed !== undefined) return computed;
  const value: unknown = schema['default'];
  if (value === undefined) return '—';
  return code(typeof value === 'string' ? value : JSON.stringify(value));
}

function descriptionOf(schema: TSchema, key: string): string {
  const description: unknown = schema['description'];
  // The docs promise a description for every key; a schema change that forgets one fails here.
  if (typeof description !== 'string' || description === '')
    throw new Error(`config key '${key}' has no description`);
  return description;
}

/** Rows for an object's keys; untitled nested objects are flattened into dotted keys. */
function rows(schema: TSchema, prefix: string, titled: Map<string, TSchema>): Row[] {
  const properties = isRecord(schema['properties']) ? (schema['properties'] as Record<string, TSchema>) : {};
  const required: unknown = schema['required'];
  const out: Row[] = [];
  for (const [name, property] of Object.entries(properties)) {
    const key = prefix === '' ? name : `${prefix}.${name}`;
    const isRequired = Array.isArray(required) && required.includes(name);
    out.push({
      key,
      type: typeText(property),
      defaultText: defaultText(property, isRequired),
      description: descriptionOf(property, key),
    });
    const items = property['items'] as TSchema | undefined;
    for (const candidate of [property, items]) {
      if (candidate && typeof candidate['title'] === 'string') titled.set(candidate['title'], candidate);
    }
    if (property['type'] === 'object' && typeof property['title'] !== 'string') {
      out.push(...rows(property, key, titled));
    }
  }
  return out;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function table(tableRows: Row[]): string {
  const lines = ['| Key | Type | Default | Description |', '| --- | --- | --- | --- |'];
  for (const row of tableRows) {
    // Types are pre-escaped (they hold `a` \| `b`); everything else is escaped here.
    lines.push(`| ${code(row.key)} | ${row.type} | ${cell(row.defaultText)} | ${cell(row.description)} |`);
  }
  return lines.join('\n');
}

const INTRO = `# Configuration reference

<!-- Generated by \`npm run docs:config\` from src/config/schema.ts. Do not edit by hand. -->

Vigil reads its settings from **one YAML file**. It is checked completely at start-up, and
\`vigil check-config\` checks it without starting anything: every problem is listed at once, with the
key path where it is (\`cameras[0].streams.main.url\`) and what to write instead. Unknown keys are
errors (\`unknown key 'recordng' (did you mean 'recording'?)\`), so a typo never silently falls back to
a default.

Every section is optional and every key has a default except a camera's \`id\` and its stream URLs,
so the smallest useful file lists just the cameras. A key with nothing after it (\`server:\` whose
lines are all commented out) counts as left out. YAML merge keys (\`<<: *anchor\`) work, which helps
cameras that share settings. [examples/vigil.yaml](../../examples/vigil.yaml) is a complete example.

\`\`\`yaml
storage:
  path: /var/lib/vigil
  maxBytes: 2TB
cameras:
  - id: front-door
    name: Front door
    streams:
      main: { url: "rtsp://192.168.1.20:554/main", user: admin, password: "\${VIGIL_FRONT_PASSWORD}" }
      sub: { url: "rtsp://192.168.1.20:554/sub", user: admin, password: "\${VIGIL_FRONT_PASSWORD}" }
\`\`\`

## Secrets and environment variables

- \`\${NAME}\` in any text value is replaced by the environment variable \`NAME\` (letters, digits and
  \`_\`), anywhere in the value, URLs included. Write \`$\${\` for a literal \`\${\`.
- Substitution happens after the YAML is parsed, so a secret containing \`:\`, \`#\`, quotes or other
  YAML-special characters cannot break the file.
- A variable that is not set is an error (\`CONFIG_ENV_MISSING\`) naming the variable and the key
  that uses it. A variable set to the empty string counts as set.
- Only text values are substituted: sizes may come from a variable (\`maxBytes: \${VIGIL_BUDGET}\`),
  numbers such as \`segmentDurationMs\` may not.
- Inside a flow mapping (\`{ url: …, password: … }\`) put a value holding \`\${…}\` in quotes, as
  YAML reads a bare \`{\` there as the start of a mapping; in block style (one key per line) no
  quotes are needed.

## Camera credentials

A stream's user and password go either into its URL (\`rtsp://admin:secret@192.168.1.20/main\`,
with \`@\`, \`:\`, \`/\`, \`#\`, \`?\` and \`%\` percent-encoded) or into its \`user\` and \`password\` keys (no
encoding needed), not both. Vigil keeps them in one place: it moves credentials out of the URL into
\`user\` and \`password\`, so the stream URL it stores, logs and returns through the API never holds a
password; they are joined back only in the URL handed to ffmpeg. Query parameters that look like
passwords (\`pwd\`, \`password\`, \`loginpas\`, \`token\` …) are shown as \`***\` in logs and API responses.

## Stream sources

| URL | Source |
| --- | --- |
| \`rtsp://host[:port]/path\`, \`rtsps://…\` | An IP camera (RTSP, optionally over TLS). \`transport\` applies to these only. |
| \`http://…\`, \`https://…\` | An MJPEG or HLS stream. |
| \`file:///abs/clip.mp4\`, \`file:clip.mp4\` | A local video file played in a loop in real time, like a camera; relative paths are resolved against the config file's folder. For demos and tests. |
| \`testsrc:?size=1280x720&fps=10\` | A synthetic test pattern with a running clock (\`size\` even, \`fps\` 1 to 60; these are the defaults). |

Any other scheme is an error naming the key and the supported schemes.

## Cameras from the file and from the API

Cameras come from two sources. Cameras in this file are managed by the file: the API and UI show
them read-only (changing one answers \`CAMERA_FROM_CONFIG\`); edit the file and restart to change
them. Cameras added through the API (\`POST /api/cameras\`, validated by the same rules) are stored in
Vigil's database. An id defined in both is an error reported at start, and the file's definition is
used.

## Paths and sizes

Relative paths (\`storage.path\`, \`file:\` URLs, an \`ingest.ffmpegPath\` containing \`/\`) are resolved
against the folder of the config file, not the working directory; \`~/\` is the home folder.

A size is a number of bytes or a number with a unit: \`B\`, \`KB\`, \`MB\`, \`GB\`, \`TB\` are powers of
1000 (as disks are sold), \`KiB\`, \`MiB\`, \`GiB\`, \`TiB\` powers of 1024. Units are case-insensitive and
the final \`B\` is optional: \`500GB\`, \`1.5 TiB\`, \`5g\`.

## Editor support

[config.schema.json](config.schema.json) is the JSON Schema of this file. With the YAML language
server (VS Code's YAML extension and others), a first line
\`# yaml-language-server: $schema=<path or URL of config.schema.json>\` gives completion and
checking as you type.
`;

/** docs/ref/config.md: the hand-written introduction, then one table per section. */
export function renderConfigMarkdown(): string {
  const titled = new Map<string, TSchema>();
  const parts = [INTRO.trimEnd(), '## Settings'];
  const sections = VigilConfigSchema.properties as Record<string, TSchema>;
  for (const [name, section] of Object.entries(sections)) {
    const sectionRows =
      section['type'] === 'object'
        ? rows(section, name, titled)
        : [
            {
              key: name,
              type: typeText(section),
              defaultText: defaultText(section, false),
              description: descriptionOf(section, name),
            },
          ];
    if (section['type'] === 'array') {
      const items = section['items'] as TSchema;
      if (typeof items['title'] === 'string') titled.set(items['title'], items);
    }
    const intro = section['type'] === 'object' ? `${descriptionOf(section, name)}\n\n` : '';
    parts.push(`### ${code(name)}\n\n${intro}${table(sectionRows)}`);
  }
  // Titled objects (Camera, Stream) are documented once each, after the sections that use them.
  const done = new Set<string>();
  for (;;) {
    const next = [...titled.entries()].find(([title]) => !done.has(title));
    if (!next) break;
    const [title, schema] = next;
    done.add(title);
    parts.push(`### ${title}\n\n${descriptionOf(schema, title)}\n\n${table(rows(schema, '', titled))}`);
  }
  return `${parts.join('\n\n')}\n`;
}
