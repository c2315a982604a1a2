"use strict";

// The two Redis connections: one for lookups, one subscribed to the revocation channel.

const Redis = require("ioredis");
const { isRedisClient } = require("./options");

// Reconnect forever, backing off to one attempt every 2 s: lookups fail fast meanwhile.
function retryStrategy(attempt) {
  return Math.min(attempt * 100, 2000);
}

// Lookups must fail closed and fast, and nothing may pile up while Redis is away.
function lookupOptions(settings) {
  return {
    lazyConnect: false, // connect now, so the first handshake finds a ready connection
    connectTimeout: settings.connectTimeout, // an unreachable host counts as down after this
    enableOfflineQueue: false, // a command while disconnected fails at once instead of queueing
    autoResendUnfulfilledCommands: false, // a lookup cut off by a disconnect fails, never replays
    maxRetriesPerRequest: 0, // ... and is not kept across reconnection attempts
    retryStrategy,
    // No ioredis commandTimeout: the lookup enforces its own deadline (settings.commandTimeout)
    // and counts a command as pending until Redis really answers, so the bound on pending
    // commands (maxPendingLookups) holds even when a stalled server never replies.
  };
}

// The subscriber must come back on its own; it sends only SUBSCRIBE.
function subscriberOptions(settings) {
  return {
    lazyConnect: false,
    connectTimeout: settings.connectTimeout,
    enableOfflineQueue: false, // SUBSCRIBE is sent on every 'ready' instead (see Revocations)
    autoResubscribe: false, // ... so that the re-check after a gap follows the SUBSCRIBE reply
    maxRetriesPerRequest: 0,
    retryStrategy,
  };
}

// How often each connection of our own is PINGed (see superviseConnection).
const HEARTBEAT_MS = 1000;

// A flow dropped without FIN or RST (a NAT reset, a failover) looks open until something is sent
// on it. The subscriber only listens, so it would wait forever while revocations are published
// to no one; the lookup connection would cost the next handshakes their deadline. Each is PINGed
// every HEARTBEAT_MS; when an answer misses the deadline its socket is destroyed and ioredis
// reconnects (the subscriber then subscribes again and every tracked field is looked up).
// Returns a stop function.
function superviseConnection(client, role, { timeoutMs, onError }) {
  let pending = null;
  const timer = setInterval(() => {
    if (pending || client.status !== "ready") return;
    const stream = client.stream;
    const ping = {};
    pending = ping;
    const deadline = setTimeout(() => {
      if (pending === ping) pending = null;
      if (client.stream !== stream || client.status !== "ready") return;
      onError(new Error(`Redis ${role} connection: no answer to PING within ${timeoutMs} ms, reconnecting`));
      stream.destroy();
    }, timeoutMs);
    client.ping().catch(() => {}).finally(() => {
      clearTimeout(deadline);
      if (pending === ping) pending = null;
    });
  }, HEARTBEAT_MS);
  timer.unref();
  return () => clearInterval(timer);
}

// Opens the connections. A client passed in is used for lookups as it is (its owner closes it);
// the subscriber is always a connection of our own.
function openConnections(settings) {
  const extra = settings.redisOptions || {};
  if (isRedisClient(settings.redis)) {
    const lookups = settings.redis;
    return {
      lookups,
      ownsLookups: false,
      subscriber: lookups.duplicate({ ...subscriberOptions(settings), ...extra }),
    };
  }
  let lookups;
  try {
    lookups = new Redis(settings.redis, { ...lookupOptions(settings), ...extra });
  } catch (error) {
    // URL's error carries the input, password included.
    throw new TypeError(`session-bridge: redis is not a URL ioredis can read (${error.code ?? error.name})`);
  }
  return {
    lookups,
    ownsLookups: true,
    subscriber: new Redis(settings.redis, { ...subscriberOptions(settings), ...extra }),
  };
}

// Reports a connection's errors once per outage, not once per reconnection attempt.
function reportErrors(client, role, onError) {
  let reported = null;
  client.on("error", (error) => {
    if (reported === error.message) return;
    reported = error.message;
    onError(new Error(`Redis ${role} connection: ${error.message}`));
  });
  client.on("ready", () => {
    reported = null;
  });
}

// QUIT when connected (so Redis sees a clean close), else just stop reconnecting.
async function closeConnection(client, timeoutMs) {
  if (client.status === "end") return;
  if (client.status !== "ready") {
    client.disconnect();
    return;
  }
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  try {
    await Promise.race([client.quit().catch(() => {}), timeout]);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

module.exports = {
  HEARTBEAT_MS, openConnections, reportErrors, superviseConnection, closeConnection, lookupOptions, subscriberOptions,
};
