import { isIPv4, isIPv6 } from 'node:net';

/**
 * Which host names a request may be addressed to, for the routes that act before anyone is signed
 * in (first-run setup, sign-in). Defends against DNS rebinding: a page at http://evil.example:8080
 * whose name the attacker re-points at 127.0.0.1 makes the victim's browser talk to Vigil as
 * "evil.example", same-origin for the page, so it could create the first administrator or guess
 * passwords and read the answers. The browser always sends the name it resolved in `Host`; Vigil
 * answers these routes only for names it knows are its own.
 *
 * Pure: the route passes what it saw on the request and socket.
 */

export interface HostPolicy {
  /** The configured listen host, without IPv6 brackets: 127.0.0.1, ::1, 0.0.0.0, ::, an address or a name. */
  listenHost: string;
  /** server.allowedHosts: names (or addresses) with or without :port. */
  allowedHosts: readonly string[];
}

export interface RequestHost {
  /** The Host header (undefined when absent). */
  host: string | undefined;
  /** The request target as sent (absolute-form carries its own authority). */
  target: string | undefined;
  /** The address and port the connection arrived at (socket.localAddress / localPort). */
  localAddress: string | undefined;
  localPort: number | undefined;
  /** For the port a Host without one means. */
  tls: boolean;
}

/** A parsed authority: a lower-case name, dotted IPv4, or bracketed canonical IPv6, and its port if written. */
interface Authority {
  host: string;
  port: number | null;
}

// RFC 3986 reg-name restricted to what DNS names use (no userinfo, no percent-escapes), or an
// IPv6 literal in brackets, then an optional port. Nothing else is accepted: a strict parse
// leaves no room for two parsers to read one header differently.
const AUTHORITY = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::([0-9]{1,5}))?$/;

export function parseAuthority(text: string): Authority | null {
  const match = AUTHORITY.exec(text);
  if (!match) return null;
  const port = match[2] === undefined ? null : Number(match[2]);
  if (port !== null && (port < 1 || port > 65535)) return null;
  const raw = match[1]!;
  if (raw.startsWith('[')) {
    const inner = raw.slice(1, -1);
    if (!isIPv6(inner)) return null;
    // The WHATWG parser gives IPv6 its one canonical spelling ([0:0::1] is [::1]).
    return { host: new URL(`http://${raw}/`).hostname, port };
  }
  return { host: raw.toLowerCase(), port };
}

function bracketed(address: string): string {
  return isIPv6(address)
    ? `[${new URL(`http://[${address}]/`).hostname.slice(1, -1)}]`
    : address.toLowerCase();
}

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]', '']);

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The names this machine always answers to on `port`, given where it listens and where the connection arrived. */
function ownAuthorities(policy: HostPolicy, localAddress: string | undefined): string[] {
  const own: string[] = [];
  const listen = policy.listenHost.toLowerCase();
  if (WILDCARDS.has(listen) || isLoopbackHost(listen)) own.push('localhost', '127.0.0.1', '[::1]');
  if (!WILDCARDS.has(listen)) own.push(bracketed(listen));
  // The address the connection came in on: an IP literal in Host names this machine itself, and a
  // rebinding page can only ever send its own domain name.
  if (localAddress) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(localAddress);
    const address = mapped ? mapped[1]! : localAddress;
    if (isIPv4(address) || isIPv6(address)) own.push(bracketed(address));
  }
  return own;
}

function allowed(authority: Authority, request: RequestHost, policy: HostPolicy): boolean {
  const port = authority.port ?? (request.tls ? 443 : 80);
  if (port === request.localPort && ownAuthorities(policy, request.localAddress).includes(authority.host)) {
    return true;
  }
  return policy.allowedHosts.some((entry) => {
    const listed = parseAuthority(entry.trim());
    // An entry without a port allows the name on any port (Vigil behind a reverse proxy or a
    // port forward sees the port the browser used, not its own).
    return (
      listed !== null && listed.host === authority.host && (listed.port === null || listed.port === port)
    );
  });
}

/** Why the request's host is not one of this Vigil's, in words that say how to allow it; null when it is. */
export function hostProblem(request: RequestHost, policy: HostPolicy): string | null {
  const hint = 'if you reach Vigil under this name, add it to server.allowedHosts in the config file';
  const header = request.host;
  if (header === undefined || header === '') return 'the request has no Host header';
  const fromHeader = parseAuthority(header);
  if (!fromHeader)
    return `the Host header '${header.slice(0, 200)}' is not a host name with an optional port`;
  // Absolute-form (POST http://name/api/session) names the host in the target, and HTTP says that
  // one wins over Host: both must be allowed, and they must agree.
  const target = request.target ?? '';
  if (!target.startsWith('/')) {
    const absolute = /^https?:\/\/([^/?#]*)/i.exec(target);
    const fromTarget = absolute ? parseAuthority(absolute[1]!) : null;
    if (!fromTarget) return 'the request target is neither a path nor an http URL with a plain host';
    if (fromTarget.host !== fromHeader.host || fromTarget.port !== fromHeader.port) {
      return `the request target names host '${absolute![1]!.slice(0, 200)}' but the Host header '${header.slice(0, 200)}'`;
    }
  }
  if (allowed(fromHeader, request, policy)) return null;
  return `this request is addressed to host '${header.slice(0, 200)}', which is not an address of this Vigil (a defence against DNS rebinding); ${hint}`;
}
