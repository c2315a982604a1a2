"use strict";

// Settings, with the gem's defaults, checked once when the authenticator is created.

const util = require("node:util");

const DEFAULTS = Object.freeze({
  redis: "redis://127.0.0.1:6379/0",
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

function resolveOptions(options = {}) {
  if (options === null || typeof options !== "object") {
    throw new TypeError("session-bridge: options must be an object");
  }
  const settings = { ...DEFAULTS, redis: process.env.REDIS_URL || DEFAULTS.redis };
  for (const [name, value] of Object.entries(options)) {
    if (value !== undefined) settings[name] = value;
  }
  check((typeof settings.redis === "string" && settings.redis !== "") || isRedisClient(settings.redis),
    "redis must be a redis:// URL or an ioredis client");
  check(settings.redisOptions === undefined || (settings.redisOptions && typeof settings.redisOptions === "object"),
    "redisOptions must be an object of ioredis options");
  check(typeof settings.storeKey === "string" && STORE_KEY.test(settings.storeKey),
    "storeKey must be 1 to 256 printable ASCII characters without spaces");
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

// Names of ioredis options (also inside tls, or as URL query parameters) that hold secrets.
const SECRET = /^(password|sentinelPassword|passphrase|key|pfx)$/i;
const REDACTED = "REDACTED";

// The settings as console.log, util.inspect and JSON.stringify show them: no password, TLS key
// or passphrase, whether it came in the URL, its query, redisOptions or an ioredis client.
function printable(settings) {
  return {
    ...settings,
    redis: isRedisClient(settings.redis) ? "[an ioredis client]" : redactedUrl(settings.redis),
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

module.exports = { DEFAULTS, resolveOptions, isRedisClient, printable };
