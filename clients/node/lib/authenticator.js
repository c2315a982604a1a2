"use strict";

// createAuthenticator: the check every adapter makes (Socket.IO, Express, ws, or a plain
// authorize call), and live revocation.

const util = require("node:util");
const { resolveOptions, printable } = require("./options");
const { tokenFromCookieHeader } = require("./token");
const LAYOUTS = { hash: require("./layouts/hash"), cluster: require("./layouts/cluster") };
const { openConnections, reportErrors, superviseConnection, closeConnection } = require("./connections");
const { SessionStore } = require("./store");
const { Revocations } = require("./revocations");
const { socketIoMiddleware } = require("./socket-io");
const { expressMiddleware } = require("./express");
const { webSocketGuard } = require("./ws");

const UNAUTHORIZED = Object.freeze({ refused: "unauthorized" });
const UNAVAILABLE = Object.freeze({ refused: "unavailable" });

function createAuthenticator(options) {
  const settings = resolveOptions(options);
  const { lookups, ownsLookups, subscriber } = openConnections(settings);
  if (ownsLookups) reportErrors(lookups, "lookup", settings.onError);
  reportErrors(subscriber, "subscriber", settings.onError);
  const supervision = { timeoutMs: settings.commandTimeout, onError: settings.onError };
  const stopSupervising = [
    superviseConnection(subscriber, "subscriber", supervision),
    ownsLookups ? superviseConnection(lookups, "lookup", supervision) : () => {},
  ];
  const layout = LAYOUTS[settings.layout];
  const store = new SessionStore(lookups, layout, settings, { ownsClient: ownsLookups });
  const revocations = new Revocations({
    subscriber,
    channel: `${settings.storeKey}:revoked`,
    store,
    onError: settings.onError,
  });
  let closing = null;

  function tokenFromCookie(header) {
    return tokenFromCookieHeader(header, settings.cookieName, settings.maxCookieHeaderBytes, layout.isToken);
  }

  function originAllowed(origin) {
    if (!settings.origins) return true;
    if (origin === undefined) return settings.allowMissingOrigin;
    return settings.origins.has(origin);
  }

  // The session for a token: { session, field, found } or { refused: "unauthorized" |
  // "unavailable" } (Redis failed). Never rejects; failures go to onError. With a handle, the
  // connection is tracked for live revocation from before the lookup, so that a revocation
  // racing with it is not missed; on refusal it is untracked again.
  async function admitToken(token, handle) {
    const locator = closing ? null : store.locate(token); // null: not a token of the layout's shape
    if (!locator) return UNAUTHORIZED;
    const { field } = locator;
    if (handle) revocations.track(locator, handle);
    let found;
    try {
      found = await store.lookup(locator);
    } catch (error) {
      if (handle) revocations.untrack(field, handle);
      settings.onError(error);
      return error.reason === "unavailable" ? UNAVAILABLE : UNAUTHORIZED;
    }
    if (!found || closing || (handle && revocations.revokedReason(handle))) {
      if (handle) revocations.untrack(field, handle);
      return UNAUTHORIZED;
    }
    return { session: found.session, field, found };
  }

  // The check of a handshake or request: its Origin, then its token (the cookie's, unless the
  // adapter found one elsewhere), then one lookup. Refusals before the lookup ask Redis nothing.
  function admit(headers, { handle, token } = {}) {
    if (closing || !originAllowed(headers.origin)) return Promise.resolve(UNAUTHORIZED);
    return admitToken(token === undefined ? tokenFromCookie(headers.cookie) : token, handle);
  }

  // The session for a token, or null. Never rejects: a Redis failure is reported and is null.
  async function authorizeToken(token) {
    return (await admitToken(token)).session ?? null;
  }

  // The session named by a Cookie header, or null.
  function authorize(cookieHeader) {
    return authorizeToken(tokenFromCookie(cookieHeader));
  }

  // What the adapters share.
  const core = { settings, revocations, admit, tokenFromCookie, isToken: layout.isToken };

  // Closes both Redis connections (a client passed in as `redis` is left to its owner).
  function close() {
    closing ??= (async () => {
      for (const stop of stopSupervising) stop();
      revocations.close();
      await Promise.all([
        closeConnection(subscriber, settings.commandTimeout),
        ownsLookups ? closeConnection(lookups, settings.commandTimeout) : undefined,
      ]);
    })();
    return closing;
  }

  return {
    authorize,
    authorizeToken,
    // Socket.IO 4 middleware: io.use(auth.socketIo()) or io.of("/ns").use(auth.socketIo()).
    socketIo: () => socketIoMiddleware(core),
    // Connect/Express middleware: app.use(auth.express()) or app.get(path, auth.express(), ...).
    express: (expressOptions) => expressMiddleware(core, expressOptions),
    // For a ws WebSocketServer: { verifyClient, attach, handleUpgrade }.
    ws: (wsOptions) => webSocketGuard(core, wsOptions),
    close,
    settings,
    get tracked() {
      return revocations.size;
    },
    // Logged or serialized, it shows its settings without secrets (see printable).
    [util.inspect.custom](depth, options, inspect) {
      return inspect({ settings: printable(settings), tracked: revocations.size }, options);
    },
    toJSON() {
      return { settings: printable(settings), tracked: revocations.size };
    },
  };
}

module.exports = { createAuthenticator };
