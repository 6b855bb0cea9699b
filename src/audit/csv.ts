import type { AuditEntry } from './entry.js';

export const AUDIT_CSV_COLUMNS = [
  'seq',
  'time',
  'time_ms',
  'actor_kind',
  'actor',
  'token_id',
  'action',
  'target',
  'ip',
  'details',
  'prev_hash',
  'hash',
] as const;

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break. A cell that a
 * spreadsheet would run as a formula (starting with = + - @, tab or carriage return) gets a
 * leading apostrophe, the OWASP advice against CSV injection; none of Vigil's own values start
 * so (user names start with a letter or digit, details with '{'), so in practice only a hostile
 * camera id or target would be changed.
 */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function actorFields(entry: AuditEntry): [string, string, number | null] {
  switch (entry.actor.kind) {
    case 'user':
      return ['user', entry.actor.name, null];
    case 'token':
      return ['token', entry.actor.name, entry.actor.tokenId];
    case 'system':
      return ['system', 'system', null];
    case 'anonymous':
      return ['anonymous', '-', null];
  }
}

/** One CSV line (without line end) of an entry, with hashes, so the export can be checked offline. */
export function auditCsvRow(entry: AuditEntry): string {
  const [kind, actor, tokenId] = actorFields(entry);
  return [
    entry.seq,
    new Date(entry.timeMs).toISOString(),
    entry.timeMs,
    kind,
    actor,
    tokenId,
    entry.action,
    entry.target,
    entry.ip,
    entry.detailsJson,
    entry.prevHash,
    entry.hash,
  ]
    .map(csvCell)
    .join(',');
}

/** The CSV text of entries: a header line, then one line per entry, CRLF line ends (RFC 4180). */
export function toCsv(entries: readonly AuditEntry[], options: { header?: boolean } = {}): string {
  const lines = entries.map(auditCsvRow);
  if (options.header ?? true) lines.unshift(AUDIT_CSV_COLUMNS.join(','));
  return lines.map((line) => `${line}\r\n`).join('');
}
