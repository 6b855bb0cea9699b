/**
 * Checks of an OpenAPI 3.1 document without a dedicated validator (none is installed): its
 * structure against a JSON Schema of the OpenAPI 3.1 objects Vigil's description can use, every
 * Schema Object compiled by Ajv as JSON Schema 2020-12 (the dialect of OpenAPI 3.1) in strict
 * mode, and what no schema can say (references resolve, path templates match their parameters,
 * operation ids are unique, tags and security schemes are declared). Then real answers are
 * validated against the schema the document gives for their method, path and status.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

/** The JSON the document is, loosely typed: the checks below are what gives it a shape. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json>; securitySchemes: Record<string, JsonObject> };
  tags?: Array<{ name: string }>;
}

export interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  parameters?: Array<{ name: string; in: string; required?: boolean; schema?: Json }>;
  requestBody?: { content: Record<string, { schema?: Json }> };
  responses: Record<string, Response>;
  security?: Array<Record<string, string[]>>;
}

export interface Response {
  description: string;
  content?: Record<string, { schema?: Json }>;
  headers?: Record<string, { schema?: Json }>;
}

export const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

const text = { type: 'string' };
const extensions = { '^x-': true };
/** An object with the listed fields only, plus x- extensions. */
function fixed(properties: Record<string, unknown>, required: string[] = [], extra: object = {}) {
  return {
    type: 'object',
    properties,
    required,
    patternProperties: extensions,
    additionalProperties: false,
    ...extra,
  };
}
const mapOf = (item: object) => ({ type: 'object', additionalProperties: item });
const listOf = (item: object) => ({ type: 'array', items: item });
const or$ref = (name: string) => ({ anyOf: [{ $ref: `#/$defs/${name}` }, { $ref: '#/$defs/reference' }] });
/**
 * A map of the components object: "All the fixed fields declared above are objects that MUST use
 * keys that match the regular expression: ^[a-zA-Z0-9\.\-_]+$."
 */
const componentMap = (item: object | boolean) => ({
  type: 'object',
  propertyNames: { pattern: '^[a-zA-Z0-9._-]+$' },
  additionalProperties: item,
});

/** The fields a Parameter Object and a Header Object share. */
const valueFields = {
  description: text,
  required: { type: 'boolean' },
  deprecated: { type: 'boolean' },
  explode: { type: 'boolean' },
  schema: true,
  content: { $ref: '#/$defs/content' },
  example: true,
  examples: mapOf({ type: 'object' }),
};

/**
 * The OpenAPI 3.1 objects (spec.openapis.org/oas/v3.1.0, section 4.8) as JSON Schema, written for
 * this test: every fixed field of the objects a description of an HTTP API uses, their required
 * fields and the rules between fields. Schema Objects are left to Ajv's meta-schema (below).
 */
const OPENAPI_31_STRUCTURE = {
  $id: 'urn:vigil-test:openapi-3.1-structure',
  ...fixed(
    {
      openapi: { type: 'string', pattern: '^3\\.1\\.\\d+(-.+)?$' },
      info: { $ref: '#/$defs/info' },
      jsonSchemaDialect: text,
      servers: listOf({ $ref: '#/$defs/server' }),
      paths: { $ref: '#/$defs/paths' },
      webhooks: mapOf(or$ref('pathItem')),
      components: { $ref: '#/$defs/components' },
      security: listOf({ $ref: '#/$defs/securityRequirement' }),
      tags: listOf({ $ref: '#/$defs/tag' }),
      externalDocs: { $ref: '#/$defs/externalDocs' },
    },
    ['openapi', 'info'],
    { anyOf: [{ required: ['paths'] }, { required: ['components'] }, { required: ['webhooks'] }] },
  ),
  $defs: {
    reference: {
      type: 'object',
      properties: { $ref: text, summary: text, description: text },
      required: ['$ref'],
      additionalProperties: false,
    },
    info: fixed(
      {
        title: text,
        summary: text,
        description: text,
        termsOfService: text,
        contact: fixed({ name: text, url: text, email: text }),
        license: fixed({ name: text, identifier: text, url: text }, ['name'], {
          not: { required: ['identifier', 'url'] },
        }),
        version: text,
      },
      ['title', 'version'],
    ),
    server: fixed(
      {
        url: text,
        description: text,
        variables: mapOf(fixed({ enum: listOf(text), default: text, description: text }, ['default'])),
      },
      ['url'],
    ),
    paths: {
      type: 'object',
      patternProperties: { '^/': { $ref: '#/$defs/pathItem' }, ...extensions },
      additionalProperties: false,
    },
    pathItem: fixed({
      $ref: text,
      summary: text,
      description: text,
      ...Object.fromEntries(METHODS.map((m) => [m, { $ref: '#/$defs/operation' }])),
      servers: listOf({ $ref: '#/$defs/server' }),
      parameters: listOf(or$ref('parameter')),
    }),
    operation: fixed({
      tags: listOf(text),
      summary: text,
      description: text,
      externalDocs: { $ref: '#/$defs/externalDocs' },
      operationId: text,
      parameters: listOf(or$ref('parameter')),
      requestBody: or$ref('requestBody'),
      responses: { $ref: '#/$defs/responses' },
      callbacks: mapOf({ type: 'object' }),
      deprecated: { type: 'boolean' },
      security: listOf({ $ref: '#/$defs/securityRequirement' }),
      servers: listOf({ $ref: '#/$defs/server' }),
    }),
    parameter: fixed(
      {
        ...valueFields,
        name: text,
        in: { enum: ['query', 'header', 'path', 'cookie'] },
        allowEmptyValue: { type: 'boolean' },
        style: text,
        allowReserved: { type: 'boolean' },
      },
      ['name', 'in'],
      {
        oneOf: [{ required: ['schema'] }, { required: ['content'] }],
        // "If the parameter location is path, this property is REQUIRED and its value MUST be true."
        if: { properties: { in: { const: 'path' } }, required: ['in'] },
        then: { properties: { required: { const: true } }, required: ['required'] },
      },
    ),
    requestBody: fixed(
      { description: text, content: { $ref: '#/$defs/content' }, required: { type: 'boolean' } },
      ['content'],
    ),
    content: {
      type: 'object',
      propertyNames: { pattern: '^[a-z*]+/[a-z0-9.+*-]+$' },
      additionalProperties: { $ref: '#/$defs/mediaType' },
    },
    mediaType: fixed({
      schema: true,
      example: true,
      examples: mapOf({ type: 'object' }),
      encoding: mapOf({ type: 'object' }),
    }),
    responses: {
      type: 'object',
      minProperties: 1,
      properties: { default: or$ref('response') },
      patternProperties: { '^[1-5](?:[0-9]{2}|XX)$': or$ref('response'), ...extensions },
      additionalProperties: false,
    },
    response: fixed(
      {
        description: text,
        headers: mapOf(or$ref('header')),
        content: { $ref: '#/$defs/content' },
        links: mapOf({ type: 'object' }),
      },
      ['description'],
    ),
    // "The Header Object follows the structure of the Parameter Object" without name and in.
    header: fixed({ ...valueFields, style: { const: 'simple' } }, [], {
      oneOf: [{ required: ['schema'] }, { required: ['content'] }],
    }),
    components: fixed({
      schemas: componentMap(true),
      responses: componentMap(or$ref('response')),
      parameters: componentMap(or$ref('parameter')),
      examples: componentMap({ type: 'object' }),
      requestBodies: componentMap(or$ref('requestBody')),
      headers: componentMap(or$ref('header')),
      securitySchemes: componentMap(or$ref('securityScheme')),
      links: componentMap({ type: 'object' }),
      callbacks: componentMap({ type: 'object' }),
      pathItems: componentMap(or$ref('pathItem')),
    }),
    securityScheme: fixed(
      {
        type: { enum: ['apiKey', 'http', 'mutualTLS', 'oauth2', 'openIdConnect'] },
        description: text,
        name: text,
        in: { enum: ['query', 'header', 'cookie'] },
        scheme: text,
        bearerFormat: text,
        flows: { type: 'object' },
        openIdConnectUrl: text,
      },
      ['type'],
      {
        allOf: [
          { if: { properties: { type: { const: 'apiKey' } } }, then: { required: ['name', 'in'] } },
          { if: { properties: { type: { const: 'http' } } }, then: { required: ['scheme'] } },
          { if: { properties: { type: { const: 'oauth2' } } }, then: { required: ['flows'] } },
          {
            if: { properties: { type: { const: 'openIdConnect' } } },
            then: { required: ['openIdConnectUrl'] },
          },
        ],
      },
    ),
    securityRequirement: mapOf(listOf(text)),
    tag: fixed({ name: text, description: text, externalDocs: { $ref: '#/$defs/externalDocs' } }, ['name']),
    externalDocs: fixed({ description: text, url: text }, ['url']),
  },
};

/** Where the components' schemas live for Ajv: `#/components/schemas/X` becomes `${COMPONENTS}#/$defs/X`. */
const COMPONENTS = 'urn:vigil-test:components';

function rewriteRefs(value: Json): Json {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      key === '$ref' && typeof inner === 'string' && inner.startsWith('#/components/schemas/')
        ? `${COMPONENTS}#/$defs/${inner.slice('#/components/schemas/'.length)}`
        : rewriteRefs(inner),
    ]),
  );
}

/** Ajv for JSON Schema 2020-12 in strict mode, knowing the OpenAPI format `binary` (an annotation). */
function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  ajv.addFormat('binary', true);
  return ajv;
}

/** Every Schema Object of the document, with where it is. */
function schemaObjects(doc: OpenApiDocument): Array<{ where: string; schema: Json }> {
  const found: Array<{ where: string; schema: Json }> = [];
  for (const [name, schema] of Object.entries(doc.components.schemas)) {
    found.push({ where: `components.schemas.${name}`, schema });
  }
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const at = `${method.toUpperCase()} ${path}`;
      for (const p of op.parameters ?? []) {
        if (p.schema !== undefined) found.push({ where: `${at} parameter ${p.name}`, schema: p.schema });
      }
      for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) {
        if (media.schema !== undefined) found.push({ where: `${at} body ${type}`, schema: media.schema });
      }
      for (const [status, response] of Object.entries(op.responses)) {
        for (const [type, media] of Object.entries(response.content ?? {})) {
          if (media.schema !== undefined)
            found.push({ where: `${at} ${status} ${type}`, schema: media.schema });
        }
        for (const [name, header] of Object.entries(response.headers ?? {})) {
          if (header.schema !== undefined)
            found.push({ where: `${at} ${status} header ${name}`, schema: header.schema });
        }
      }
    }
  }
  return found;
}

function refsIn(value: Json, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const inner of value) refsIn(inner, out);
  else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === '$ref' && typeof inner === 'string') out.push(inner);
      else refsIn(inner, out);
    }
  }
  return out;
}

/** Everything wrong with the document as OpenAPI 3.1; empty when it is sound. */
export function openApiProblems(doc: OpenApiDocument): string[] {
  // Not strict: the structure schema says "one of these is required" in ways strict mode forbids.
  const structure = new Ajv2020({ allErrors: true, strictRequired: false }).compile(OPENAPI_31_STRUCTURE);
  const problems: string[] = [];
  if (!structure(doc)) {
    problems.push(...(structure.errors ?? []).map((e) => `structure ${e.instancePath}: ${e.message}`));
  }
  // Every Schema Object is JSON Schema 2020-12 that Ajv compiles in strict mode.
  const schemas = newAjv();
  const found = schemaObjects(doc);
  for (const { where, schema } of found) {
    if (!schemas.validateSchema(schema as object)) {
      problems.push(`${where}: not JSON Schema 2020-12: ${schemas.errorsText(schemas.errors)}`);
    }
  }
  if (problems.length === 0) {
    schemas.addSchema({ $id: COMPONENTS, $defs: rewriteRefs(doc.components.schemas as Json) });
    for (const { where, schema } of found) {
      try {
        schemas.compile(rewriteRefs(schema) as object);
      } catch (err) {
        problems.push(`${where}: ${(err as Error).message}`);
      }
    }
  }
  // References point at something.
  for (const target of refsIn(doc as unknown as Json)) {
    const name = target.startsWith('#/components/schemas/') ? target.slice(21) : null;
    if (name === null || !(name in doc.components.schemas))
      problems.push(`$ref ${target} resolves to nothing`);
  }
  const declaredTags = new Set((doc.tags ?? []).map((t) => t.name));
  const operationIds = new Map<string, string>();
  for (const [path, item] of Object.entries(doc.paths)) {
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string).sort();
    for (const [method, op] of Object.entries(item)) {
      const at = `${method.toUpperCase()} ${path}`;
      const inPath = (op.parameters ?? [])
        .filter((p) => p.in === 'path')
        .map((p) => p.name)
        .sort();
      if (JSON.stringify(inPath) !== JSON.stringify(templated)) {
        problems.push(
          `${at}: path parameters ${inPath.join(',')} but the template has ${templated.join(',')}`,
        );
      }
      const seen = new Set<string>();
      for (const p of op.parameters ?? []) {
        if (seen.has(`${p.in} ${p.name}`)) problems.push(`${at}: parameter ${p.in} ${p.name} twice`);
        seen.add(`${p.in} ${p.name}`);
      }
      if (op.operationId !== undefined) {
        const other = operationIds.get(op.operationId);
        if (other) problems.push(`${at}: operationId ${op.operationId} is also ${other}'s`);
        operationIds.set(op.operationId, at);
      }
      for (const tag of op.tags ?? []) {
        if (!declaredTags.has(tag)) problems.push(`${at}: tag ${tag} is not declared`);
      }
      for (const requirement of op.security ?? []) {
        for (const scheme of Object.keys(requirement)) {
          if (!(scheme in doc.components.securitySchemes))
            problems.push(`${at}: unknown security scheme ${scheme}`);
        }
      }
    }
  }
  return problems;
}

/** Every object schema says what it does with properties it does not list: no schema is open by omission. */
export function openObjects(doc: OpenApiDocument): string[] {
  const open: string[] = [];
  const walk = (value: Json, where: string): void => {
    if (Array.isArray(value)) value.forEach((inner, i) => walk(inner, `${where}[${i}]`));
    else if (value !== null && typeof value === 'object') {
      if (value['type'] === 'object' && !('additionalProperties' in value)) open.push(where);
      for (const [key, inner] of Object.entries(value)) walk(inner, `${where}.${key}`);
    }
  };
  for (const [name, schema] of Object.entries(doc.components.schemas)) walk(schema, name);
  return open;
}

export interface Answer {
  method: string;
  /** The path as sent, without the query string. */
  path: string;
  status: number;
  contentType: string | null;
  body: string;
}

/** The operation of a method and concrete path: of the templates that match, the one with fewest parameters. */
export function operationFor(doc: OpenApiDocument, method: string, path: string) {
  const candidates = Object.entries(doc.paths)
    .filter(([template, item]) => {
      if (!(method.toLowerCase() in item)) return false;
      const pattern = template
        .split('/')
        .map((s) => (s.startsWith('{') ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/');
      return new RegExp(`^${pattern}$`).test(path);
    })
    .sort(([a], [b]) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0));
  const found = candidates[0];
  if (!found) return null;
  const [template, item] = found;
  return { template, operation: item[method.toLowerCase()] as Operation };
}

/** Validates real answers against the document, strict about unknown properties. */
export class AnswerChecker {
  private readonly ajv = newAjv();
  private readonly compiled = new Map<string, ValidateFunction>();
  /** Operation and status of every answer checked: `GET /api/cameras/{id} 200`. */
  readonly seen = new Set<string>();

  constructor(private readonly doc: OpenApiDocument) {
    this.ajv.addSchema({ $id: COMPONENTS, $defs: rewriteRefs(doc.components.schemas as Json) });
  }

  /** What is wrong with the answer by the document; empty when it matches. */
  check(answer: Answer): string[] {
    const at = `${answer.method} ${answer.path} → ${answer.status}`;
    const found = operationFor(this.doc, answer.method, answer.path);
    if (!found) return [`${at}: no operation in the description`];
    const response = found.operation.responses[String(answer.status)];
    if (!response) {
      return [
        `${at}: status not described (${Object.keys(found.operation.responses).join(', ')}): ${answer.body.slice(0, 200)}`,
      ];
    }
    this.seen.add(`${answer.method} ${found.template} ${answer.status}`);
    if (response.content === undefined) {
      return answer.body === ''
        ? []
        : [`${at}: described without a body, but sent ${answer.body.slice(0, 100)}`];
    }
    const mediaType = (answer.contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const media = response.content[mediaType];
    if (!media)
      return [
        `${at}: content type ${mediaType} is not described (${Object.keys(response.content).join(', ')})`,
      ];
    if (mediaType !== 'application/json') return [];
    const key = `${answer.method} ${found.template} ${answer.status}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(rewriteRefs(media.schema ?? true) as object);
      this.compiled.set(key, validate);
    }
    let body: unknown;
    try {
      body = JSON.parse(answer.body);
    } catch {
      return [`${at}: the body is not JSON: ${answer.body.slice(0, 100)}`];
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).map(
      (e) => `${at}: ${e.instancePath || '(body)'} ${e.message} ${JSON.stringify(e.params)}`,
    );
  }
}
