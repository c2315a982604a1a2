"use strict";

// What the HTTP adapters (Express, ws) share: their options, the refusal they answer with,
// and where the session goes on the request.

// 401 for every refusal (no cookie, a bad origin, a revoked, expired or unreadable session: the
// answer does not say which), 503 when Redis could not be asked.
const STATUS = Object.freeze({ unauthorized: 401, unavailable: 503 });

// The refusal as a status, headers and a small JSON body.
function refusalResponse(refused) {
  const body = JSON.stringify({ error: refused });
  return {
    status: STATUS[refused],
    headers: {
      "Content-Type": "application/json; charset=utf-8",
      "Content-Length": String(Buffer.byteLength(body)),
    },
    body,
  };
}

// The adapter's options, checked when it is made: `property` (where the session goes, default
// "session") and the adapter's own, each of the type of its default.
function resolveAdapterOptions(adapter, options, defaults) {
  if (options === undefined) options = {};
  if (options === null || typeof options !== "object") {
    throw new TypeError(`session-bridge: ${adapter}() options must be an object`);
  }
  const resolved = { property: "session", ...defaults };
  for (const [name, value] of Object.entries(options)) {
    if (!Object.hasOwn(resolved, name)) {
      throw new TypeError(`session-bridge: ${adapter}() has no option ${JSON.stringify(name)}`);
    }
    if (value !== undefined) resolved[name] = value;
  }
  const { property } = resolved;
  if (typeof property !== "string" || property === "" || property in Object.prototype) {
    throw new TypeError(`session-bridge: ${adapter}() property must be a name such as "sessionBridge"`);
  }
  for (const name of Object.keys(defaults)) {
    if (typeof resolved[name] !== typeof defaults[name]) {
      throw new TypeError(`session-bridge: ${adapter}() ${name} must be a ${typeof defaults[name]}`);
    }
  }
  return Object.freeze(resolved);
}

// Requests whose property this package claimed, so that running an adapter twice on one
// request is not mistaken for a collision.
const claimed = new WeakSet();

// Checks, before anything is looked up, that req[property] is free for the session. Throws when
// something else (express-session) already put a value there: overwriting it would break that
// middleware.
function claimProperty(req, property) {
  if (req[property] !== undefined && !claimed.has(req)) {
    throw new Error(`session-bridge: req.${property} is already set by another middleware `
      + "(express-session?); choose another property, e.g. { property: \"sessionBridge\" }");
  }
  claimed.add(req);
}

module.exports = { refusalResponse, resolveAdapterOptions, claimProperty };
