"use strict";

// The two Redis connections: one for lookups, one subscribed to the revocation channel; to one
// Redis, through Sentinel, or to a Redis Cluster.

const Redis = require("ioredis");
const { isRedisClient, nodeAddress } = require("./options");
const { nodeRotation, uniqueNodes } = require("./node-rotation");

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
// On a Redis Cluster: ioredis' Cluster for lookups, with the lookup connection's options where
// they apply: the Cluster's own (connect now, no offline queue, reconnect forever) and each
// node's (connection timeout, no retries, no replays). ioredis retries a lookup that a node
// dropped or refused while the cluster fails over; the lookup's deadline bounds it as any other.
function clusterOptions(settings, credentials) {
  const { lazyConnect, enableOfflineQueue, retryStrategy: clusterRetryStrategy, ...eachNode } = lookupOptions(settings);
  return {
    lazyConnect,
    enableOfflineQueue,
    clusterRetryStrategy,
    slotsRefreshTimeout: settings.connectTimeout, // CLUSTER SLOTS, when the slots are read again
    redisOptions: { ...eachNode, ...credentials, ...settings.redisOptions },
  };
}

// Through Sentinel: both connections ask the sentinels for the master, again on each
// reconnection. The master's credentials, db and TLS come from the redis URL, the sentinels'
// from theirs.
function sentinelOptions(settings) {
  const addresses = settings.sentinels.map((url) => nodeAddress(url, "sentinels"));
  const { username, password, tls } = addresses[0];
  return {
    sentinels: uniqueNodes(addresses),
    name: settings.name,
    sentinelUsername: username || undefined,
    sentinelPassword: password || undefined,
    sentinelTLS: tls ? {} : undefined,
    sentinelCommandTimeout: settings.connectTimeout, // a sentinel that does not answer is skipped
    enableTLSForSentinelMode: /^rediss:/i.test(settings.redis),
    failoverDetector: true, // leave a master demoted by a planned failover, which drops no one
  };
}

// Opens the connections. A client passed in is used for lookups as it is (its owner closes it);
// the subscriber is always a connection of our own.
function openConnections(settings) {
  const extra = settings.redisOptions;
  if (settings.cluster) {
    const addresses = settings.cluster.map((url) => nodeAddress(url, "cluster"));
    const credentials = credentialsOf(addresses[0]);
    const seeds = uniqueNodes(addresses);
    const lookups = new Redis.Cluster(seeds, clusterOptions(settings, credentials));
    connectMasters(lookups);
    return { lookups, ownsLookups: true, subscriber: clusterSubscriber(lookups, seeds, credentials, settings) };
  }
  if (settings.sentinels) {
    const sentinels = sentinelOptions(settings);
    return {
      lookups: newRedis(settings.redis, { ...lookupOptions(settings), ...sentinels, ...extra }),
      ownsLookups: true,
      subscriber: newRedis(settings.redis, { ...subscriberOptions(settings), ...sentinels, ...extra }),
    };
  }
  if (isRedisClient(settings.redis)) {
    const lookups = settings.redis;
    const subscriber = lookups.isCluster
      ? clusterSubscriber(lookups, [], credentialsOf(lookups.options.redisOptions ?? {}), settings)
      : lookups.duplicate({ ...subscriberOptions(settings), ...extra });
    return { lookups, ownsLookups: false, subscriber };
  }
  return {
    lookups: newRedis(settings.redis, { ...lookupOptions(settings), ...extra }),
    ownsLookups: true,
    subscriber: newRedis(settings.redis, { ...subscriberOptions(settings), ...extra }),
  };
}

function newRedis(url, options) {
  try {
    return new Redis(url, options);
  } catch (error) {
    // URL's error carries the input, password included.
    throw new TypeError(`session-bridge: redis is not a URL ioredis can read (${error.code ?? error.name})`);
  }
}

// The ioredis options for a cluster URL's user, password and rediss:// (or a client's options).
function credentialsOf({ username, password, tls }) {
  return {
    ...(username && { username }),
    ...(password && { password }),
    ...(tls && { tls: tls === true ? {} : tls }),
  };
}

// Classic PUBLISH reaches every node of a Redis Cluster: the subscriber is one connection to any
// node, the next one known on each reconnection (lib/node-rotation.js).
function clusterSubscriber(cluster, seeds, credentials, settings) {
  const knownNodes = () => uniqueNodes([...cluster.nodes("all").map((node) => node.options), ...seeds]);
  return new Redis({
    ...subscriberOptions(settings), ...credentials, ...settings.redisOptions, Connector: nodeRotation(knownNodes),
  });
}

// ioredis connects a cluster node when the first command goes to it, and refuses (then retries
// 100 ms later) the commands sent to it while it connects: connect every master once the cluster
// is ready, and each new one (a promoted replica) as soon as it is known, so that handshakes find
// ready connections (lazyConnect: false's reason). Not before 'ready': ioredis' ready check
// would find a connecting node and give up.
function connectMasters(cluster) {
  const connect = () => {
    if (cluster.status !== "ready") return;
    for (const node of cluster.nodes("master")) {
      if (node.status === "wait") node.connect().catch(() => {});
    }
  };
  cluster.on("ready", connect);
  cluster.on("refresh", connect);
}

// How often each connection of our own is PINGed (see superviseConnection).
const HEARTBEAT_MS = 1000;

// A flow dropped without FIN or RST (a NAT reset, a failover) looks open until something is sent
// on it. The subscriber only listens, so it would wait forever while revocations are published
// to no one; the lookup connection would cost the next handshakes their deadline. Each is PINGed
// every HEARTBEAT_MS (on a Redis Cluster, each node's connection); when an answer misses the
// deadline its socket is destroyed and ioredis reconnects (the subscriber then subscribes again
// and every tracked field is looked up; a cluster node's connection is made again by the next
// command for its slots). Returns a stop function.
function superviseConnection(client, role, { timeoutMs, onError }) {
  const pinging = new WeakSet();
  const heartbeat = (connection) => {
    const stream = connection.stream;
    pinging.add(connection);
    const deadline = setTimeout(() => {
      pinging.delete(connection);
      if (connection.stream !== stream || connection.status !== "ready") return;
      onError(new Error(`${connectionLabel(client, connection, role)}: no answer to PING within ${timeoutMs} ms, reconnecting`));
      stream.destroy();
    }, timeoutMs);
    connection.ping().catch(() => {}).finally(() => {
      clearTimeout(deadline);
      pinging.delete(connection);
    });
  };
  const timer = setInterval(() => {
    for (const connection of client.isCluster ? client.nodes("all") : [client]) {
      if (connection.status === "ready" && !pinging.has(connection)) heartbeat(connection);
    }
  }, HEARTBEAT_MS);
  timer.unref();
  return () => clearInterval(timer);
}

// "Redis lookup connection", and to which node on a Redis Cluster.
function connectionLabel(client, connection, role) {
  return client.isCluster
    ? `Redis ${role} connection to ${connection.options.host}:${connection.options.port}`
    : `Redis ${role} connection`;
}

// Reports a connection's errors once per outage, not once per reconnection attempt (on a Redis
// Cluster, also each node's once per outage of the node).
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
  if (!client.isCluster) return;
  // A node's first error until its connection is ready again (ioredis makes a new connection to a
  // dead node on each redirection to it, each failing its own way).
  const reportedNodes = new Set();
  client.on("node error", (error, node) => {
    if (reportedNodes.has(node)) return;
    reportedNodes.add(node);
    onError(new Error(`Redis ${role} connection to ${node}: ${error.message}`));
  });
  client.on("+node", (connection) => {
    connection.once("ready", () => reportedNodes.delete(`${connection.options.host}:${connection.options.port}`));
  });
}

// QUIT when connected (so Redis sees a clean close), else just stop reconnecting. A Redis
// Cluster is only disconnected: its QUIT would connect every node not connected yet.
async function closeConnection(client, timeoutMs) {
  if (client.status === "end") return;
  if (client.status !== "ready" || client.isCluster) {
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
