"use strict";

// createAuthenticator: the handshake check for Socket.IO (or any server), and live revocation.

const util = require("node:util");
const { resolveOptions, printable } = require("./options");
const { isToken, tokenFromCookieHeader, fieldFor } = require("./token");
const { openConnections, reportErrors, superviseConnection, closeConnection } = require("./connections");
const { SessionStore } = require("./store");
const { Revocations } = require("./revocations");

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
  const store = new SessionStore(lookups, { ...settings, ownsClient: ownsLookups });
  const revocations = new Revocations({
    subscriber,
    channel: `${settings.storeKey}:revoked`,
    store,
    onError: settings.onError,
  });
  let closing = null;

  // The session for a token, or null. Never rejects: a Redis failure is reported and is null.
  async function authorizeToken(token) {
    if (closing || !isToken(token)) return null;
    try {
      const found = await store.lookup(fieldFor(token, settings.hashTokens));
      return found ? found.session : null;
    } catch (error) {
      settings.onError(error);
      return null;
    }
  }

  // The session named by a Cookie header, or null.
  function authorize(cookieHeader) {
    return authorizeToken(tokenFromCookieHeader(cookieHeader, settings.cookieName, settings.maxCookieHeaderBytes));
  }

  // A non-browser client may send { auth: { token } }; otherwise the cookie is read.
  function tokenFromHandshake(handshake) {
    const auth = handshake.auth;
    if (auth !== null && typeof auth === "object" && Object.hasOwn(auth, "token")) {
      return isToken(auth.token) ? auth.token : null;
    }
    return tokenFromCookieHeader(handshake.headers.cookie, settings.cookieName, settings.maxCookieHeaderBytes);
  }

  function originAllowed(origin) {
    if (!settings.origins) return true;
    if (origin === undefined) return settings.allowMissingOrigin;
    return settings.origins.has(origin);
  }

  // Resolves to undefined (accepted: socket.data.session is set) or to the Error to refuse with.
  async function checkHandshake(socket) {
    if (closing || !originAllowed(socket.handshake.headers.origin)) return refusal();
    const token = tokenFromHandshake(socket.handshake);
    if (!token) return refusal();
    const field = fieldFor(token, settings.hashTokens);
    revocations.track(field, socket);
    let found;
    try {
      found = await store.lookup(field);
    } catch (error) {
      revocations.untrack(field, socket);
      settings.onError(error);
      return refusal(error.reason);
    }
    if (!found || closing || revocations.wasRevoked(socket)) {
      revocations.untrack(field, socket);
      return refusal();
    }
    socket.data.session = found.session;
    revocations.accepted(field, socket, found);
    return undefined;
  }

  // Socket.IO 4 middleware: io.use(auth.socketIo()) or io.of("/ns").use(auth.socketIo()).
  function socketIo() {
    return (socket, next) => {
      checkHandshake(socket).then(next, (error) => {
        settings.onError(error);
        next(refusal());
      });
    };
  }

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
    socketIo,
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

// Every refusal reads "unauthorized"; data.reason "unavailable" tells a client to retry later.
function refusal(reason) {
  const error = new Error("unauthorized");
  if (reason === "unavailable") error.data = { reason };
  return error;
}

module.exports = { createAuthenticator };
