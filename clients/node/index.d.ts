// Type declarations for session-bridge (CommonJS).

import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Cluster, Redis, RedisOptions } from "ioredis";

/** A session as the gem stored it: the JSON object `session_data` returned, with String keys. */
export type Session = Record<string, unknown>;

export interface AuthenticatorOptions {
  /** A redis:// URL (default: REDIS_URL, else "redis://127.0.0.1:6379/0") or an ioredis client (a Redis.Cluster needs layout "cluster"). A client passed in is used for lookups as it is and left open by close(). With `sentinels`, the URL gives the master's user, password, db and TLS (rediss://); its host is not used. */
  redis?: string | Redis | Cluster;
  /** ioredis options merged over the companion's own (password, tls, ...); on a Redis Cluster, over each node's. */
  redisOptions?: RedisOptions;
  /** The gem's layout: "hash" (default; one Redis or Sentinel) or "cluster" (one key per entry with Redis' own TTL, the tag in the token; one Redis, Sentinel or Redis Cluster). */
  layout?: "hash" | "cluster";
  /** Seed nodes of a Redis Cluster, e.g. ["redis://127.0.0.1:7000", "redis://127.0.0.1:7001"] (rediss:// for TLS; each with the same user and password). Needs layout "cluster"; excludes `redis` and `sentinels`. */
  cluster?: readonly string[];
  /** Sentinels that watch the master, e.g. ["redis://127.0.0.1:26379"] (their own user and password, if any, in the URLs). Needs `name`. */
  sentinels?: readonly string[];
  /** With `sentinels`: the master's name as the sentinels know it, e.g. "mymaster". */
  name?: string;
  /** The gem's store_key. Default "mySessionStore". */
  storeKey?: string;
  /** The gem's cookie_name. Default "_validation_token_key". */
  cookieName?: string;
  /** The gem's hash_tokens: entries are stored under SHA-256(token). Default false. */
  hashTokens?: boolean;
  /** Milliseconds a lookup may take, waiting for a connection included, before it is refused. Default 1000. */
  commandTimeout?: number;
  /** Milliseconds to open a connection to Redis. Default 1000. */
  connectTimeout?: number;
  /** A larger Cookie header is refused without asking Redis. Default 16384. */
  maxCookieHeaderBytes?: number;
  /** Lookups still waiting for Redis beyond which new ones are refused at once. Default 1000. */
  maxPendingLookups?: number;
  /** Allowed values of the handshake's Origin header, e.g. ["https://app.example.com"]. Default: any. */
  origins?: string | readonly string[] | null;
  /** With `origins`, whether a handshake without an Origin header is accepted. Default true. */
  allowMissingOrigin?: boolean;
  /** Receives Redis failures, unreadable entries and adapter errors (never a token or a payload). Default: one line on standard error. */
  onError?: (error: Error) => void;
}

/** What the middleware needs of a Socket.IO 4 socket (a `Socket` from "socket.io" has all of it). */
export interface HandshakeSocket {
  handshake: {
    headers: Record<string, string | string[] | undefined>;
    auth: Record<string, any>;
  };
  data: any;
  connected: boolean;
  conn?: {
    readyState: string;
    once(event: "close", listener: () => void): unknown;
    off(event: "close", listener: () => void): unknown;
  };
  disconnect(close?: boolean): unknown;
  once(event: "disconnect", listener: () => void): unknown;
  off(event: "disconnect", listener: () => void): unknown;
}

/** The error a refused handshake is given: message "unauthorized"; data.reason "unavailable" when Redis failed. */
export interface RefusalError extends Error {
  data?: { reason: "unavailable" };
}

export type SocketIoMiddleware = (socket: HandshakeSocket, next: (error?: RefusalError) => void) => void;

/** A request after auth.express() or auth.ws() accepted it: the session under `property` ("session" unless chosen). */
export type SessionRequest<S extends object = Session, P extends string = "session"> = IncomingMessage & { [K in P]?: S };

export interface ExpressOptions {
  /** Let a request without a live session through with the property unset, instead of answering 401. Redis failing is still 503. Default false. */
  optional?: boolean;
  /** The request property the session is put in. Default "session"; with express-session, choose another, e.g. "sessionBridge". */
  property?: string;
}

/** Connect-style middleware: fits Express 4 and 5 `app.use`, Connect and @fastify/express or @fastify/middie. */
export type ExpressMiddleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

export interface WebSocketOptions {
  /** The upgrade request property the session is put in. Default "session". */
  property?: string;
}

/** What the guard needs of a ws 8 `WebSocket` (one from "ws" has all of it). */
export interface GuardedWebSocket {
  readonly readyState: number;
  readonly OPEN: number;
  close(code?: number, reason?: string): void;
  terminate(): void;
}

/** What the guard needs of a ws 8 `WebSocketServer` (one from "ws" has all of it). */
export interface GuardedWebSocketServer<W extends GuardedWebSocket = GuardedWebSocket> {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, callback: (ws: W, req: IncomingMessage) => void): void;
  emit(event: "connection", ws: W, req: IncomingMessage): boolean;
  prependListener(event: "connection", listener: (ws: W, req: IncomingMessage) => void): unknown;
}

/** auth.ws(): authenticates ws upgrades; a revoked or expired connection is closed with 4001 and "session revoked" or "session expired". */
export interface WebSocketGuard {
  /** For `new WebSocketServer({ server, verifyClient })`; then call attach(wss). Refuses with 401 or 503 and a JSON body. */
  verifyClient(
    info: { origin: string; secure: boolean; req: IncomingMessage },
    callback: (result: boolean, code?: number, message?: string, headers?: OutgoingHttpHeaders) => void,
  ): void;
  /** Watches the server verifyClient guards, so revoked connections are closed (without it verifyClient refuses with 500). Returns wss. */
  attach<T extends GuardedWebSocketServer<any>>(wss: T): T;
  /** For a `noServer` WebSocketServer, from the HTTP server's "upgrade" event: refuses with 401 or 503, or upgrades and emits "connection" on wss (or calls callback instead). Never rejects. */
  handleUpgrade<W extends GuardedWebSocket>(
    wss: GuardedWebSocketServer<W>,
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    callback?: (ws: W, req: IncomingMessage) => void,
  ): Promise<void>;
}

export interface Authenticator<S extends object = Session> {
  /** The session named by a Cookie header, or null (never rejects: failures go to onError). */
  authorize(cookieHeader: string | undefined | null): Promise<S | null>;
  /** The session for a token, or null. */
  authorizeToken(token: string): Promise<S | null>;
  /** Socket.IO 4 middleware: sets socket.data.session, refuses with "unauthorized", disconnects on revocation. */
  socketIo(): SocketIoMiddleware;
  /** Express/Connect middleware: sets req.session (or options.property), or answers 401 { error: "unauthorized" }, or 503 { error: "unavailable" } when Redis failed. */
  express(options?: ExpressOptions): ExpressMiddleware;
  /** For a ws 8 WebSocketServer: verifyClient + attach, or handleUpgrade. Sets req.session for the "connection" handler. */
  ws(options?: WebSocketOptions): WebSocketGuard;
  /** Closes the Redis connections it opened; afterwards every handshake is refused. */
  close(): Promise<void>;
  /** The settings in force. */
  readonly settings: Readonly<Required<Omit<AuthenticatorOptions, "origins" | "redisOptions" | "cluster" | "sentinels" | "name">>> & {
    readonly origins: ReadonlySet<string> | null;
    readonly redisOptions?: RedisOptions;
    readonly cluster: readonly string[] | null;
    readonly sentinels: readonly string[] | null;
    readonly name: string | null;
  };
  /** How many fields and connections (Socket.IO sockets, ws connections) are tracked for live revocation. */
  readonly tracked: { fields: number; sockets: number };
}

export function createAuthenticator<S extends object = Session>(options?: AuthenticatorOptions): Authenticator<S>;

/** The gem's defaults. */
export const DEFAULTS: Readonly<{
  redis: string;
  layout: "hash";
  storeKey: string;
  cookieName: string;
  hashTokens: boolean;
  commandTimeout: number;
  connectTimeout: number;
  maxCookieHeaderBytes: number;
  maxPendingLookups: number;
  origins: null;
  allowMissingOrigin: boolean;
}>;

/** /^[0-9a-f]{32}$/: the shape of every token the gem mints in the hash layout. */
export const TOKEN_PATTERN: RegExp;

/** /^[0-9a-f]{8}\.[0-9a-f]{32}$/: "<tag>.<secret>", the shape of every token the gem mints in the cluster layout. */
export const CLUSTER_TOKEN_PATTERN: RegExp;

/** Whether a value is a token of the layout (default "hash"). */
export function isToken(value: unknown, layout?: "hash" | "cluster"): value is string;

/** The field a token is stored under and revoked with: the token, or its lowercase hex SHA-256 with hashTokens. */
export function fieldFor(token: string, hashTokens: boolean): string;

/** What onError receives when a lookup fails: reason "unavailable" (Redis down, slow or failing over: the connection is refused with 503 or data.reason "unavailable") or "malformed" (the entry breaks the contract's read limits). */
export class LookupError extends Error {
  readonly name: "LookupError";
  readonly reason: "unavailable" | "malformed";
}
