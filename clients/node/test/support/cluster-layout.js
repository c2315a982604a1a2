"use strict";

// The cluster layout as contract/cluster_layout.json writes it, in raw Redis commands, and the
// Redis Cluster slot of a key, so that tests can write entries without the gem and check the
// contract's key names and slots.

const { createHash, randomBytes } = require("node:crypto");
const { fieldFor } = require("../..");

// The contract's tag for a user id: the first 8 hex characters of SHA-256(user_id as UTF-8).
function tagFor(userId) {
  return createHash("sha256").update(String(userId), "utf8").digest("hex").slice(0, 8);
}

// A new token of the cluster layout: "<tag>.<secret>", the tag the user's (random without one).
function clusterToken(userId) {
  const tag = userId === undefined ? randomBytes(4).toString("hex") : tagFor(userId);
  return `${tag}.${randomBytes(16).toString("hex")}`;
}

function keysFor(token, { storeKey = "mySessionStore", hashTokens = false } = {}) {
  const tag = token.slice(0, 8);
  const field = fieldFor(token, hashTokens);
  return { field, entry: `${storeKey}:{${tag}}:${field}`, users: `${storeKey}:{${tag}}:users` };
}

// Publishes an entry as the contract says: the JSON under the entry key with its TTL (PX; none
// when ttlMs is null), and "<expires_ms> <user_id>" under the field in the tag's user index,
// whose TTL is at least the entry's. `redis` is an ioredis client or Cluster (both keys share
// the tag's slot, so one MULTI holds them). Resolves to the field.
async function publishEntry(redis, token, json, { userId = "", ttlMs = 86_400_000, ...names } = {}) {
  const { field, entry, users } = keysFor(token, names);
  const [seconds, micros] = await redis.time();
  const expiresAt = ttlMs === null ? 0 : Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) + ttlMs;
  const transaction = redis.multi();
  if (ttlMs === null) transaction.set(entry, json);
  else transaction.set(entry, json, "PX", ttlMs);
  transaction.hset(users, field, `${expiresAt} ${userId}`);
  if (ttlMs === null) transaction.persist(users);
  else transaction.pexpireat(users, expiresAt);
  await transaction.exec();
  return field;
}

// Revokes an entry as the gem does: its key and user index field removed, then the field
// announced on "<storeKey>:revoked" (classic PUBLISH, which a Redis Cluster delivers everywhere).
async function revokeEntry(redis, token, { storeKey = "mySessionStore", hashTokens = false } = {}) {
  const { field, entry, users } = keysFor(token, { storeKey, hashTokens });
  await redis.multi().del(entry).hdel(users, field).exec();
  await redis.publish(`${storeKey}:revoked`, field);
  return field;
}

// The Redis Cluster slot of a key: CRC16 (XMODEM) of its hash tag, or of the key without one,
// modulo 16384.
function keySlot(key) {
  let bytes = Buffer.from(key, "utf8");
  const open = bytes.indexOf(0x7b);
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) bytes = bytes.subarray(open + 1, close);
  }
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

module.exports = { tagFor, clusterToken, keysFor, publishEntry, revokeEntry, keySlot };
