"use strict";

// Settings, with the gem's defaults, checked once when the authenticator is created.

const util = require("node:util");

const DEFAULTS = Object.freeze({
  redis: "redis://127.0.0.1:6379/0",
  layout: "hash",
  storeKey: "mySessionStore",
  cookieName: "_validation_token_key",
  hashTokens: false,
  commandTimeout: 1000,
  connectTimeout: 1000,
  maxCookieHeaderBytes: 16384,
  maxPendingLookups: 1000,
  origins: null,
  allowMissingOrigin: true,
});

// RFC 6265 cookie-name characters, as the gem checks them.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// The gem's store_key rule: 1 to 256 printable ASCII characters, no spaces.
const STORE_KEY = /^[\x21-\x7e]{1,256}$/;
// The cluster layout's: nor { or }, which would move the hash tag of its keys.
const CLUSTER_STORE_KEY = /^[\x21-\x7a\x7c\x7e]{1,256}$/;
const LAYOUTS = ["hash", "cluster"];

function resolveOptions(options = {}) {
  if (options === null || typeof options !== "object") {
    throw new TypeError("session-bridge: options must be an object");
  }
  const settings = {
    ...DEFAULTS, redis: process.env.REDIS_URL || DEFAULTS.redis, cluster: null, sentinels: null, name: null,
  };
  for (const [name, value] of Object.entries(options)) {
    if (value !== undefined) settings[name] = value;
  }
  check((typeof settings.redis === "string" && settings.redis !== "") || isRedisClient(settings.redis),
    "redis must be a redis:// URL or an ioredis client");
  check(settings.redisOptions === undefined || (settings.redisOptions && typeof settings.redisOptions === "object"),
    "redisOptions must be an object of ioredis options");
  check(LAYOUTS.includes(settings.layout), 'layout must be "hash" (the default) or "cluster", as the gem\'s layout');
  check(typeof settings.storeKey === "string" && STORE_KEY.test(settings.storeKey),
    "storeKey must be 1 to 256 printable ASCII characters without spaces");
  check(settings.layout !== "cluster" || CLUSTER_STORE_KEY.test(settings.storeKey),
    'storeKey may not contain { or } with layout "cluster": they would move the hash tag of its keys');
  checkTopology(settings, options);
  check(typeof settings.cookieName === "string" && COOKIE_NAME.test(settings.cookieName),
    "cookieName must be a non-empty string of cookie-name characters");
  check(typeof settings.hashTokens === "boolean", "hashTokens must be true or false");
  check(typeof settings.allowMissingOrigin === "boolean", "allowMissingOrigin must be true or false");
  for (const name of ["commandTimeout", "connectTimeout", "maxCookieHeaderBytes", "maxPendingLookups"]) {
    const value = settings[name];
    check(Number.isFinite(value) && value > 0, `${name} must be a positive number`);
  }
  check(settings.onError === undefined || typeof settings.onError === "function", "onError must be a function");
  if (settings.origins !== null) {
    const list = typeof settings.origins === "string" ? [settings.origins] : settings.origins;
    check(Array.isArray(list) && list.every((origin) => typeof origin === "string"),
      "origins must be an array of origins such as \"https://app.example.com\"");
    settings.origins = new Set(list);
  }
  settings.onError ??= reportError;
  return Object.freeze(Object.defineProperties(settings, {
    [util.inspect.custom]: { value: (depth, options, inspect) => inspect(printable(settings), options) },
    toJSON: { value: () => printable(settings) },
  }));
}

// Where Redis is: `redis` (a URL or a client), `cluster` (seed URLs of a Redis Cluster) or
// `sentinels` with `name` (the master's, as the sentinels know it; the master's credentials, db
// and TLS come from `redis`).
function checkTopology(settings, options) {
  const { cluster, sentinels, name } = settings;
  check(cluster === null || sentinels === null,
    "cluster and sentinels are exclusive: give the seed nodes of a Redis Cluster, or the sentinels of one master");
  if (cluster !== null) {
    settings.cluster = Object.freeze(nodeUrls(cluster, "cluster", "the seed nodes of a Redis Cluster"));
    check(options.redis === undefined,
      "redis and cluster are exclusive: give the Redis Cluster's seed URLs as cluster, or a Redis.Cluster client as redis");
    check(name === null, "name is the master name of a Sentinel setup: it goes with sentinels, not with cluster");
  }
  if (sentinels !== null) {
    settings.sentinels = Object.freeze(nodeUrls(sentinels, "sentinels", "the sentinels that watch the master"));
    check(typeof name === "string" && name !== "", 'sentinels needs name, the master\'s name as the sentinels know it (e.g. "mymaster")');
    check(!isRedisClient(settings.redis),
      "sentinels opens its own connections: redis may only be a URL, for the master's credentials, db and TLS");
  } else {
    check(name === null, "name is the master name of a Sentinel setup: give sentinels too");
  }
  const onCluster = cluster !== null || settings.redis?.isCluster === true;
  check(!onCluster || settings.layout === "cluster", 'a Redis Cluster needs layout: "cluster": the hash layout '
    + "keeps every entry in one hash, which one node would hold, and its lookup touches two keys in different slots");
}

// A list of redis:// or rediss:// URLs, checked (each parses, with a host) and copied.
function nodeUrls(urls, option, what) {
  check(Array.isArray(urls) && urls.length > 0 && urls.every((url) => typeof url === "string"),
    `${option} must be a non-empty array of redis:// URLs: ${what}`);
  const addresses = urls.map((url) => nodeAddress(url, option));
  const credentials = ({ username, password, tls }) => JSON.stringify([username, password, tls]);
  check(addresses.every((address) => credentials(address) === credentials(addresses[0])),
    `every URL in ${option} must carry the same scheme, user and password`);
  check(option !== "cluster" || addresses.every(({ db }) => db === "" || db === "0"),
    "a Redis Cluster has only database 0: cluster URLs name no other");
  return [...urls];
}

const DEFAULT_PORTS = Object.freeze({ cluster: 6379, sentinels: 26379 });

// { host, port, username, password, tls, db } of one of the redis:// or rediss:// URLs of
// `option` ("cluster" or "sentinels"). Errors never repeat the URL, which may hold a password.
function nodeAddress(url, option) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new TypeError(`session-bridge: ${option} holds a URL that cannot be read (${error.code ?? error.name})`);
  }
  check(parsed.protocol === "redis:" || parsed.protocol === "rediss:",
    `${option} holds a URL that is neither redis:// nor rediss:// (${parsed.protocol})`);
  check(parsed.hostname !== "" && parsed.search === "" && parsed.hash === "",
    `${option} URLs name a host and port, with no query: give other ioredis options in redisOptions`);
  let username;
  let password;
  try {
    username = decodeURIComponent(parsed.username);
    password = decodeURIComponent(parsed.password);
  } catch {
    throw new TypeError(`session-bridge: ${option} holds a URL whose user or password is not percent-encoded`);
  }
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: parsed.port === "" ? DEFAULT_PORTS[option] : Number(parsed.port),
    username,
    password,
    tls: parsed.protocol === "rediss:",
    db: parsed.pathname.replace(/^\//, ""),
  };
}

// Names of ioredis options (also inside tls, or as URL query parameters) that hold secrets.
const SECRET = /^(password|sentinelPassword|passphrase|key|pfx)$/i;
const REDACTED = "REDACTED";

// The settings as console.log, util.inspect and JSON.stringify show them: no password, TLS key
// or passphrase, whether it came in the URL, its query, redisOptions or an ioredis client.
function printable(settings) {
  return {
    ...settings,
    redis: isRedisClient(settings.redis) ? "[an ioredis client]" : redactedUrl(settings.redis),
    cluster: settings.cluster && settings.cluster.map(redactedUrl),
    sentinels: settings.sentinels && settings.sentinels.map(redactedUrl),
    ...(settings.redisOptions && { redisOptions: redacted(settings.redisOptions) }),
    origins: settings.origins && [...settings.origins],
  };
}

// The URL with everything between "//" and the last "@" before its query (user and password,
// even one holding a raw "@") and every secret query parameter replaced.
function redactedUrl(url) {
  const scheme = url.indexOf("//");
  const start = scheme === -1 ? 0 : scheme + 2;
  const query = url.indexOf("?", start);
  const base = query === -1 ? url : url.slice(0, query);
  const at = base.lastIndexOf("@");
  const shown = at >= start ? `${base.slice(0, start)}${REDACTED}${base.slice(at)}` : base;
  if (query === -1) return shown;
  const params = new URLSearchParams(url.slice(query + 1));
  for (const name of [...params.keys()]) {
    if (SECRET.test(name)) params.set(name, REDACTED);
  }
  return `${shown}?${params}`;
}

// A copy of plain options with every secret replaced; anything else is shown as it is.
function redacted(value) {
  if (Array.isArray(value)) return value.map(redacted);
  if (value === null || typeof value !== "object" || Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value)
    .map(([name, item]) => [name, SECRET.test(name) ? REDACTED : redacted(item)]));
}

function isRedisClient(value) {
  return value !== null && typeof value === "object" && typeof value.duplicate === "function";
}

// The default onError: one line on standard error. Messages never contain a token or a payload.
function reportError(error) {
  console.error(`[session-bridge] ${error.message}`);
}

function check(condition, message) {
  if (!condition) throw new TypeError(`session-bridge: ${message}`);
}

module.exports = { DEFAULTS, resolveOptions, isRedisClient, printable, nodeAddress };
