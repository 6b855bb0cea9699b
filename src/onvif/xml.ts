import { XMLParser } from 'fast-xml-parser';

/**
 * SOAP answers read as plain objects: namespace prefixes removed (cameras pick their own
 * prefixes: `tt:`, `onvif:`, `ns2:`), attributes under `@_name`, every value kept as text.
 */
const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
});

/** A parsed XML element: text, or an object of children and `@_` attributes. */
export type XmlNode = string | { [name: string]: XmlNode | XmlNode[] | undefined };

export function parseXml(text: string): XmlNode {
  return parser.parse(text) as XmlNode;
}

/** Every child of that name (an element that occurs once is not an array in the parse). */
export function children(node: XmlNode | undefined, name: string): XmlNode[] {
  if (node === undefined || typeof node === 'string') return [];
  const value = node[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** The first child of that name. */
export function child(node: XmlNode | undefined, name: string): XmlNode | undefined {
  return children(node, name)[0];
}

/** Follows a path of child names. */
export function path(node: XmlNode | undefined, ...names: string[]): XmlNode | undefined {
  let at = node;
  for (const name of names) at = child(at, name);
  return at;
}

/** An element's text ('' for an empty element, undefined when absent). */
export function text(node: XmlNode | undefined): string | undefined {
  if (node === undefined) return undefined;
  if (typeof node === 'string') return node;
  const inner = node['#text'];
  return typeof inner === 'string' ? inner : '';
}

export function attr(node: XmlNode | undefined, name: string): string | undefined {
  if (node === undefined || typeof node === 'string') return undefined;
  const value = node[`@_${name}`];
  return typeof value === 'string' ? value : undefined;
}

/** Text of a path, or '' (for optional fields of a camera's answer). */
export function textAt(node: XmlNode | undefined, ...names: string[]): string {
  return text(path(node, ...names)) ?? '';
}

/** A number at a path, or null when absent or not a number. */
export function numberAt(node: XmlNode | undefined, ...names: string[]): number | null {
  const value = text(path(node, ...names));
  if (value === undefined || value.trim() === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** Escapes text for an XML element or attribute value. */
export function escapeXml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
