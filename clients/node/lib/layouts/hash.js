"use strict";

// The hash layout (contract/wire.json, the default): every entry is a field of one hash, and its
// expiry a score in a sorted set beside it, in Redis time. One Redis or Sentinel only: the two
// keys are in different slots of a Redis Cluster.

const { fieldFor } = require("../token");
const { LookupError } = require("../errors");

const TOKEN_PATTERN = /^[0-9a-f]{32}$/;

function isToken(value) {
  return typeof value === "string" && value.length === 32 && TOKEN_PATTERN.test(value);
}

// The lookup, as one read-only script (flagged no-writes: a read-only replica may run it): the
// entry, its expiry score as Redis wrote it (JavaScript judges it, "inf" included), and Redis'
// clock in milliseconds (a Lua number becomes an integer reply, truncated: the floor).
// KEYS[1] the store hash, KEYS[2] the expiry index; ARGV[1] the field.
const LOOKUP = Object.freeze({
  name: "sessionBridgeLookup",
  numberOfKeys: 2,
  readOnly: true,
  lua: `#!lua flags=no-writes
local now = redis.call('TIME')
return { redis.call('HGET', KEYS[1], ARGV[1]), redis.call('ZSCORE', KEYS[2], ARGV[1]), now[1] * 1000 + now[2] / 1000 }
`,
});

// What the lookup of a token needs: its field (what revocations name) and the script's arguments.
function locate(token, { storeKey, hashTokens }) {
  const field = fieldFor(token, hashTokens);
  return { field, args: [storeKey, `${storeKey}:expires`, field] };
}

// The script's reply as { entry (the stored bytes), expiresInMs (null: never) }, or null when
// there is no entry or it has expired by Redis' clock.
function interpret(reply, { storeKey }) {
  if (!Array.isArray(reply) || reply.length !== 3 || !Number.isSafeInteger(reply[2])) {
    throw new LookupError("unavailable", "Redis lookup failed: the lookup script answered oddly");
  }
  const [entry, score, now] = reply;
  if (entry === null) return null;
  // Redis may hold "inf" or "-inf": no expiry the gem writes, so the entry is refused rather
  // than guessed at (Number("inf") is NaN, which compared as "not expired" and then
  // rescheduled the expiry check every millisecond).
  const expiresAt = score === null ? null : Number(score.toString("latin1"));
  if (expiresAt !== null && !Number.isFinite(expiresAt)) {
    throw new LookupError("malformed", `the expiry score under ${storeKey}:expires is not a finite number`);
  }
  if (expiresAt !== null && expiresAt <= now) return null;
  return { entry, expiresInMs: expiresAt === null ? null : expiresAt - now };
}

module.exports = { name: "hash", TOKEN_PATTERN, isToken, LOOKUP, locate, interpret };
