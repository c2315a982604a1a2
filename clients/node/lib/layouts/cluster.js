"use strict";

// The cluster layout (contract/cluster_layout.json): one string key per entry, living as long as
// Redis' own TTL on it, named after the tag the token carries, so that the token alone names the
// key and its slot. Usable on one Redis, on Sentinel and on Redis Cluster: the lookup touches one
// declared key.

const { fieldFor } = require("../token");
const { LookupError } = require("../errors");

// <tag>.<secret>: 8 hex characters of tag, 32 of secret.
const TOKEN_PATTERN = /^[0-9a-f]{8}\.[0-9a-f]{32}$/;
const TOKEN_LENGTH = 41;
const TAG_LENGTH = 8;

function isToken(value) {
  return typeof value === "string" && value.length === TOKEN_LENGTH && TOKEN_PATTERN.test(value);
}

// The lookup, as one read-only script (EVALSHA is cheaper than GET and PTTL pipelined, for Node
// and for Redis alike): the entry and its remaining lifetime in ms (-1: none). KEYS[1] the entry.
const LOOKUP = Object.freeze({
  name: "sessionBridgeClusterLookup",
  numberOfKeys: 1,
  readOnly: true,
  lua: `#!lua flags=no-writes
return { redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1]) }
`,
});

// "<storeKey>:{<tag>}:<field>": the braces make the tag the key's hash tag, hence its slot.
function entryKey(token, { storeKey, hashTokens }) {
  return `${storeKey}:{${token.slice(0, TAG_LENGTH)}}:${fieldFor(token, hashTokens)}`;
}

// What the lookup of a token needs: its field (what revocations name) and the script's arguments.
function locate(token, settings) {
  return { field: fieldFor(token, settings.hashTokens), args: [entryKey(token, settings)] };
}

// The script's reply as { entry (the stored bytes), expiresInMs (null: never) }, or null when
// there is none (Redis removes an expired key itself). A PTTL of 0, under a millisecond left,
// counts as expired, as the hash layout counts a score equal to Redis' clock.
function interpret(reply) {
  if (!Array.isArray(reply) || reply.length !== 2 || !Number.isSafeInteger(reply[1])) {
    throw new LookupError("unavailable", "Redis lookup failed: the lookup script answered oddly");
  }
  const [entry, ttl] = reply;
  if (entry === null || (ttl !== -1 && ttl <= 0)) return null;
  return { entry, expiresInMs: ttl === -1 ? null : ttl };
}

module.exports = { name: "cluster", TOKEN_PATTERN, isToken, LOOKUP, entryKey, locate, interpret };
