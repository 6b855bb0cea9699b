import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { WebSocket, WebSocketServer } from 'ws';
import {
  authorize,
  cameraFilter,
  type Principal,
  type RequestParts,
  type RouteAccess,
} from '../auth/permissions.js';
import type { AuthStore, CredentialChange } from '../auth/store.js';
import { bearerToken, hashSecret } from '../auth/tokens.js';
import { VigilError } from '../errors/catalogue.js';
import { WS_CLOSE_ACCESS_REVOKED } from '../contract/close-codes.js';

/**
 * Open responses: every authorised request still being answered (a live video or /api/ws
 * WebSocket, an export download, a playback segment, an event clip…), by the credential it was
 * authorised with. Access is checked when a request arrives; without this registry a WebSocket
 * or a long download would outlive the sign-out, the disabled account, the revoked token or
 * the withdrawn camera grant that should have ended it.
 *
 * Changes made in this process arrive from the auth store at once (onCredentialChange);
 * changes made by another process on the same storage (the `vigil` CLI) are found by polling
 * SQLite's data_version every RECHECK_INTERVAL_MS. Either way the affected credentials are
 * re-resolved (without recording use) and each response is authorised again against the
 * route's declared access: what no longer passes is closed, WebSockets with
 * WS_CLOSE_ACCESS_REVOKED, HTTP responses by destroying them.
 */

/** How often another process's writes are looked for: one `PRAGMA data_version` query. */
export const RECHECK_INTERVAL_MS = 500;
/**
 * Every credential in use is re-resolved this often even without a change: sessions and tokens
 * also end by expiring, which writes nothing.
 */
export const FULL_RECHECK_INTERVAL_MS = 60_000;
/** A WebSocket that does not finish the close handshake in this time is cut. */
const CLOSE_HANDSHAKE_MS = 1000;

type Credential =
  { kind: 'session'; sessionId: string; idHash: string } | { kind: 'token'; token: string; tokenId: number };

function credentialKey(credential: Credential): string {
  return credential.kind === 'session' ? `session:${credential.idHash}` : `token:${credential.tokenId}`;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's entry in the open responses, when it was authorised as someone. */
    openResponse: OpenResponse | null;
  }
}

/** One authorised request still being answered. */
export class OpenResponse {
  /** Set once access ended: why, as the error a new request would get. */
  revokedBy: VigilError | null = null;
  private socket: WebSocket | null = null;
  private readonly principalListeners: Array<(principal: Principal) => void> = [];

  constructor(
    readonly credential: Credential,
    public principal: Principal,
    readonly access: RouteAccess,
    readonly request: RequestParts,
    private readonly reply: FastifyReply,
    readonly isWebSocket: boolean,
  ) {}

  get key(): string {
    return credentialKey(this.credential);
  }

  /**
   * Called with the new principal when the user's role or grants changed but this response may
   * go on: /api/ws narrows its camera filter here.
   */
  onPrincipalChange(listener: (principal: Principal) => void): void {
    this.principalListeners.push(listener);
  }

  /** @internal The socket the upgrade made (it exists only after the request hooks ran). */
  attach(socket: WebSocket): void {
    this.socket = socket;
    if (this.revokedBy !== null) this.close();
  }

  /** @internal */
  changePrincipal(principal: Principal): void {
    this.principal = principal;
    for (const listener of this.principalListeners) listener(principal);
  }

  /** @internal Ends the response now (or as soon as it starts). */
  revoke(reason: VigilError): void {
    if (this.revokedBy !== null) return;
    this.revokedBy = reason;
    this.close();
  }

  private close(): void {
    const socket = this.socket;
    if (socket !== null) {
      if (socket.readyState === socket.CLOSED) return;
      // The close frame queues behind what the socket still has to send; send() no longer adds
      // anything once closing. A client that does not answer the handshake is cut.
      socket.close(WS_CLOSE_ACCESS_REVOKED, 'access revoked');
      setTimeout(() => socket.terminate(), CLOSE_HANDSHAKE_MS).unref();
      return;
    }
    // A WebSocket not upgraded yet is closed when attached; a response not started yet is
    // refused in onSend (a stream) or goes out as computed (a small JSON answer, such as the
    // sign-out's own).
    if (this.isWebSocket) return;
    const raw = this.reply.raw;
    const stillSending = raw.headersSent && (!raw.writableEnded || (raw.socket?.writableLength ?? 0) > 0);
    if (stillSending) raw.destroy();
  }
}

export interface OpenResponsesOptions {
  store: AuthStore;
  log: Logger;
  recheckIntervalMs?: number;
  fullRecheckIntervalMs?: number;
}

/** The registry; server.ts installs its hooks around the auth hook. */
export class OpenResponses {
  private readonly store: AuthStore;
  private readonly log: Logger;
  private readonly fullRecheckIntervalMs: number;
  private readonly byKey = new Map<string, Set<OpenResponse>>();
  private readonly byRawRequest = new WeakMap<IncomingMessage, OpenResponse>();
  /** Requests' change counter at arrival, read before the auth hook resolves their credential. */
  private readonly arrivalSeq = new WeakMap<IncomingMessage, number>();
  /** Counts changes seen (notified or polled): a request that saw one while authorised is re-checked. */
  private changeSeq = 0;
  private generation: number | null = null;
  private lastFullRecheckMs = 0;
  private pending: Set<string> | 'all' | null = null;
  private draining = false;
  private polling = false;
  private readonly timer: NodeJS.Timeout;
  private readonly unsubscribe: () => void;

  constructor(options: OpenResponsesOptions) {
    this.store = options.store;
    this.log = options.log;
    this.fullRecheckIntervalMs = options.fullRecheckIntervalMs ?? FULL_RECHECK_INTERVAL_MS;
    this.unsubscribe = this.store.onCredentialChange((change) => this.onChange(change));
    this.timer = setInterval(() => void this.poll(), options.recheckIntervalMs ?? RECHECK_INTERVAL_MS);
    this.timer.unref();
  }

  /** Call before installAuth(): the hook that notes when a request arrived. */
  installBeforeAuth(app: FastifyInstance): void {
    app.decorateRequest('openResponse', null);
    app.addHook('onRequest', this.beforeAuth);
  }

  /** Call after installAuth() (hooks run in registration order): registration and its end. */
  installAfterAuth(app: FastifyInstance): void {
    app.addHook('onRequest', this.afterAuth);
    app.addHook('onSend', this.onSend);
    app.addHook('onClose', async () => this.close());
  }

  /** onRequest hook registered BEFORE the auth hook: notes the change counter. */
  private readonly beforeAuth = async (request: FastifyRequest): Promise<void> => {
    this.arrivalSeq.set(request.raw, this.changeSeq);
  };

  /** onRequest hook registered AFTER the auth hook: registers the authorised request. */
  private readonly afterAuth = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const principal = request.principal;
    const access = request.routeOptions.config.access;
    if (principal === null || !access || 'public' in access) return;
    const credential = credentialOf(request, principal);
    if (credential === null) return;
    const entry = new OpenResponse(
      credential,
      principal,
      access,
      { params: request.params, query: request.query, ip: request.ip },
      reply,
      request.headers.upgrade?.toLowerCase() === 'websocket',
    );
    request.openResponse = entry;
    this.byRawRequest.set(request.raw, entry);
    const entries = this.byKey.get(entry.key) ?? new Set<OpenResponse>();
    entries.add(entry);
    this.byKey.set(entry.key, entries);
    // Emitted when the response is done or its connection closes (a WebSocket's included).
    reply.raw.once('close', () => this.remove(entry));
    // A change landed between resolving this credential and now: the principal may be stale.
    if (this.arrivalSeq.get(request.raw) !== this.changeSeq) this.schedule([entry.key]);
  };

  /** onSend hook: a revoked request whose handler was still running does not start sending media. */
  private readonly onSend = async (request: FastifyRequest, _reply: FastifyReply, payload: unknown) => {
    const reason = request.openResponse?.revokedBy ?? null;
    if (reason === null) return payload;
    const stream = payload as { pipe?: unknown; destroy?: () => void } | null;
    if (typeof stream?.pipe === 'function') {
      stream.destroy?.();
      throw reason;
    }
    if (Buffer.isBuffer(payload)) throw reason;
    return payload;
  };

  /** Hands each upgraded WebSocket to its entry. */
  watchWebSockets(server: WebSocketServer): void {
    server.on('connection', (socket: WebSocket, raw: IncomingMessage) => {
      const entry = this.byRawRequest.get(raw);
      if (!entry) return;
      socket.once('close', () => this.remove(entry));
      entry.attach(socket);
    });
  }

  close(): void {
    clearInterval(this.timer);
    this.unsubscribe();
  }

  private remove(entry: OpenResponse): void {
    const entries = this.byKey.get(entry.key);
    if (!entries) return;
    entries.delete(entry);
    if (entries.size === 0) this.byKey.delete(entry.key);
  }

  private onChange(change: CredentialChange): void {
    this.changeSeq += 1;
    const keys = new Set<string>();
    for (const [key, entries] of this.byKey) {
      const sample = entries.values().next().value;
      if (!sample) continue;
      const credential = sample.credential;
      const affected =
        change.kind === 'user'
          ? sample.principal.userId === change.userId
          : change.kind === 'session'
            ? credential.kind === 'session' && credential.idHash === change.idHash
            : credential.kind === 'token' && credential.tokenId === change.tokenId;
      if (affected) keys.add(key);
    }
    if (keys.size > 0) this.schedule(keys);
  }

  /** Another process's commits, and expiry: re-check everything when either may matter. */
  private async poll(): Promise<void> {
    if (this.polling) return;
    if (this.byKey.size === 0) {
      // Nothing to protect; the next poll with open responses re-checks them all once.
      this.generation = null;
      return;
    }
    this.polling = true;
    try {
      const generation = await this.store.changeGeneration();
      const nowMs = Date.now();
      if (generation !== this.generation || nowMs - this.lastFullRecheckMs >= this.fullRecheckIntervalMs) {
        this.generation = generation;
        this.lastFullRecheckMs = nowMs;
        this.changeSeq += 1;
        this.schedule('all');
      }
    } catch (err) {
      this.log.error({ err }, 'cannot check for changes to users, sessions and tokens');
    } finally {
      this.polling = false;
    }
  }

  private schedule(keys: Iterable<string> | 'all'): void {
    if (keys === 'all' || this.pending === 'all') {
      this.pending = 'all';
    } else {
      this.pending ??= new Set();
      for (const key of keys) this.pending.add(key);
    }
    if (this.draining) return;
    this.draining = true;
    void this.drain();
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending !== null) {
        const keys = this.pending === 'all' ? [...this.byKey.keys()] : [...this.pending];
        this.pending = null;
        for (const key of keys) {
          try {
            await this.recheck(key);
          } catch (err) {
            // Left as they are; the next change or the periodic full re-check tries again.
            this.log.error({ err }, 'cannot re-check the access of open responses');
          }
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** Re-resolves one credential and applies the answer to its open responses. */
  private async recheck(key: string): Promise<void> {
    const entries = [...(this.byKey.get(key) ?? [])];
    const credential = entries[0]?.credential;
    if (!credential) return;
    // touch: false — a re-check is not a use; last-seen times stay what the person did.
    const resolved =
      credential.kind === 'session'
        ? await this.store.resolveSession(credential.sessionId, { touch: false })
        : await this.store.resolveToken(credential.token, { touch: false });
    for (const entry of entries) {
      if (resolved === null) {
        entry.revoke(
          new VigilError(
            'AUTH_REQUIRED',
            credential.kind === 'session'
              ? 'your session ended (signed out, or the account changed); sign in again'
              : 'the API token was revoked, or its user disabled or deleted',
          ),
        );
        continue;
      }
      const refused = refusal(entry, resolved.principal);
      if (refused !== null) entry.revoke(refused);
      else entry.changePrincipal(resolved.principal);
    }
    const closed = entries.filter((e) => e.revokedBy !== null).length;
    if (closed > 0) {
      this.log.info(
        { credential: credential.kind, userId: entries[0]?.principal.userId, closed },
        `closed ${closed} open response(s) whose access ended`,
      );
    }
  }
}

/** The credential a request was authorised with. */
function credentialOf(request: FastifyRequest, principal: Principal): Credential | null {
  if (principal.via === 'token') {
    const token = bearerToken(request.headers.authorization);
    if (token === null || principal.tokenId === null) return null;
    return { kind: 'token', token, tokenId: principal.tokenId };
  }
  if (request.sessionId === null) return null;
  return { kind: 'session', sessionId: request.sessionId, idHash: hashSecret(request.sessionId) };
}

/**
 * Why a response may not go on under the new principal, or null. The route's own declaration
 * is checked again with the request's parameters: a live view of a camera no longer granted
 * fails it, /api/ws (all granted cameras, filtered) passes while any camera is left. Routes whose
 * camera is known only inside the handler (an event's clip) are ended when any camera of theirs
 * is withdrawn: the registry does not know which camera they serve.
 */
function refusal(entry: OpenResponse, principal: Principal): VigilError | null {
  try {
    authorize(principal, entry.access, entry.request);
  } catch (err) {
    if (err instanceof VigilError) return err;
    throw err;
  }
  const access = entry.access;
  if ('permission' in access && access.camera === 'in-handler') {
    const before = cameraFilter(entry.principal, access.permission);
    const after = cameraFilter(principal, access.permission);
    if (after !== null && (before === null || [...before].some((camera) => !after.has(camera)))) {
      return new VigilError('FORBIDDEN', 'a camera was withdrawn from your grants; ask an administrator');
    }
  }
  return null;
}
