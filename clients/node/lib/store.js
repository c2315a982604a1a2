"use strict";

// Reads one entry the way the gem's fetch does, in one command and one round trip, with a deadline.

const crypto = require("node:crypto");
const { parseEntry } = require("./entry");

// The lookup, as one read-only script (allowed on replicas, never writes): the entry, its expiry
// score and Redis' clock in one command and one round trip, where MULTI/HGET/ZSCORE/TIME/EXEC
// took five. KEYS[1] the store hash, KEYS[2] the expiry index; ARGV[1] the field.
const LOOKUP = `#!lua flags=no-writes
local now = redis.call('TIME')
return { redis.call('HGET', KEYS[1], ARGV[1]), redis.call('ZSCORE', KEYS[2], ARGV[1]), now[1], now[2] }
`;
const LOOKUP_SHA = crypto.createHash("sha1").update(LOOKUP).digest("hex");

class LookupError extends Error {
  // reason: "unavailable" (Redis down, slow or busy) or "malformed" (the entry is not a JSON
  // object within the contract's read limits, or its expiry score is not a finite number)
  constructor(reason, message) {
    super(message);
    this.name = "LookupError";
    this.reason = reason;
  }
}

class SessionStore {
  #client;
  #ownsClient;
  #storeKey;
  #expiresKey;
  #timeout;
  #maxPending;
  #pending = 0;
  #ready = null;

  constructor(client, { storeKey, commandTimeout, maxPendingLookups, ownsClient }) {
    this.#client = client;
    this.#ownsClient = ownsClient;
    this.#storeKey = storeKey;
    this.#expiresKey = `${storeKey}:expires`;
    this.#timeout = commandTimeout;
    this.#maxPending = maxPendingLookups;
  }

  // { session, expiresAt, now } for a live entry (expiresAt null: it never expires; both in
  // Redis milliseconds), or null when there is none or it has expired. Throws LookupError.
  async lookup(field) {
    if (this.#pending >= this.#maxPending) {
      throw new LookupError("unavailable", `${this.#pending} lookups are already waiting for Redis`);
    }
    this.#pending += 1;
    let timedOut = false;
    let timer;
    const deadline = new Promise((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        const what = this.#client.status === "ready" ? "did not answer" : "was not connected";
        reject(new LookupError("unavailable", `Redis ${what} within ${this.#timeout} ms`));
      }, this.#timeout);
    });
    deadline.catch(() => {});
    const reply = this.#query(field, deadline, () => timedOut);
    // Pending until Redis answers or the connection drops, not merely until the deadline.
    reply.then(this.#settle, this.#settle);
    try {
      return this.#interpret(await Promise.race([reply, deadline]));
    } catch (error) {
      if (timedOut && this.#ownsClient) this.#replaceStalledConnection();
      throw error instanceof LookupError ? error : new LookupError("unavailable", `Redis lookup failed: ${error.message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  #settle = () => {
    this.#pending -= 1;
  };

  // The entry, its expiry score and Redis' time, in one EVALSHA (EVAL the first time a server
  // sees it): the expiry is judged by Redis' clock, as the gem does.
  async #query(field, deadline, isLate) {
    await this.#whenReady(deadline);
    if (isLate()) throw new LookupError("unavailable", "Redis was not ready in time");
    const keys = [this.#storeKey, this.#expiresKey];
    let reply;
    try {
      reply = await this.#client.evalshaBuffer(LOOKUP_SHA, 2, ...keys, field);
    } catch (error) {
      if (!String(error.message).startsWith("NOSCRIPT")) throw error;
      reply = await this.#client.evalBuffer(LOOKUP, 2, ...keys, field);
    }
    if (!Array.isArray(reply) || reply.length !== 4) throw new Error("the lookup script answered oddly");
    const [entry, score, seconds, micros] = reply;
    return [entry, score === null ? null : score.toString(), [seconds.toString(), micros.toString()]];
  }

  // Waits for the connection to be ready, at most until the deadline, without queueing commands
  // (all waiters share one listener).
  async #whenReady(deadline) {
    const client = this.#client;
    if (client.status === "ready") return;
    if (client.status === "end") throw new LookupError("unavailable", "the Redis connection is closed");
    if (client.status === "wait") client.connect().catch(() => {});
    this.#ready ??= new Promise((resolve) => {
      client.once("ready", () => {
        this.#ready = null;
        resolve();
      });
    });
    await Promise.race([this.#ready, deadline]);
  }

  #interpret([entry, score, [seconds, micros]]) {
    if (entry === null) return null;
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    // Redis may hold "inf" or "-inf": no expiry the gem writes, so the entry is refused rather
    // than guessed at (Number("inf") is NaN, which compared as "not expired" and then
    // rescheduled the expiry check every millisecond).
    const expiresAt = score === null ? null : Number(score);
    if (expiresAt !== null && !Number.isFinite(expiresAt)) {
      throw new LookupError("malformed", `the expiry score under ${this.#expiresKey} is not a finite number`);
    }
    if (expiresAt !== null && expiresAt <= now) return null;
    let session;
    try {
      session = parseEntry(entry);
    } catch (error) {
      throw new LookupError("malformed", `the entry under ${this.#storeKey} ${error.message}`);
    }
    return { session, expiresAt, now };
  }

  // A connection that let a command miss its deadline may be stalled or half-open: a new one
  // replaces it rather than letting commands collect on it. Destroying the socket (rather than
  // a polite close, which waits for a peer that may never answer) fails its commands at once,
  // since maxRetriesPerRequest is 0, and ioredis reconnects.
  #replaceStalledConnection() {
    if (this.#client.status === "ready") this.#client.stream?.destroy();
  }
}

module.exports = { SessionStore, LookupError };
