"use strict";

// Reads one entry the way the gem's fetch does, in one command and one round trip, with a deadline.

const { parseEntry } = require("./entry");
const { Deadlines } = require("./deadlines");

// The lookup, as one read-only script (flagged no-writes: a read-only replica may run it): the
// entry, its expiry score as Redis wrote it (JavaScript judges it, "inf" included), and Redis'
// clock in milliseconds (a Lua number becomes an integer reply, truncated: the floor).
// ioredis sends it with EVAL the first time on each connection and EVALSHA after (EVAL again on
// NOSCRIPT). KEYS[1] the store hash, KEYS[2] the expiry index; ARGV[1] the field.
const LOOKUP_COMMAND = "sessionBridgeLookup";
const LOOKUP_SCRIPT = Object.freeze({
  numberOfKeys: 2,
  readOnly: true,
  lua: `#!lua flags=no-writes
local now = redis.call('TIME')
return { redis.call('HGET', KEYS[1], ARGV[1]), redis.call('ZSCORE', KEYS[2], ARGV[1]), now[1] * 1000 + now[2] / 1000 }
`,
});
const SEND_LOOKUP = `${LOOKUP_COMMAND}Buffer`; // the variant that answers Buffers: limits apply to the bytes

class LookupError extends Error {
  // reason: "unavailable" (Redis down, slow or busy) or "malformed" (the entry is not a JSON
  // object within the contract's read limits, or its expiry score is not a finite number)
  constructor(reason, message) {
    super(message);
    this.name = "LookupError";
    this.reason = reason;
  }
}

// One lookup in flight: sent (or waiting for the connection), answered or expired.
class Lookup {
  constructor(field, resolve, reject) {
    this.field = field;
    this.resolve = resolve;
    this.reject = reject;
    this.sent = false;
    this.settled = false;
    this.deadline = 0;
    this.next = null;
  }
}

class SessionStore {
  #client;
  #ownsClient;
  #storeKey;
  #expiresKey;
  #timeout;
  #maxPending;
  #pending = 0; // sent and not answered by Redis yet, or waiting for the connection
  #deadlines;
  #waitingForReady = false;

  constructor(client, { storeKey, commandTimeout, maxPendingLookups, ownsClient }) {
    this.#client = client;
    this.#ownsClient = ownsClient;
    this.#storeKey = storeKey;
    this.#expiresKey = `${storeKey}:expires`;
    this.#timeout = commandTimeout;
    this.#maxPending = maxPendingLookups;
    this.#deadlines = new Deadlines(commandTimeout, this.#expired);
    client.defineCommand(LOOKUP_COMMAND, LOOKUP_SCRIPT);
  }

  // { session, expiresAt, now } for a live entry (expiresAt null: it never expires; both in
  // Redis milliseconds), or null when there is none or it has expired. Rejects with LookupError,
  // at the latest commandTimeout after the call.
  lookup(field) {
    if (this.#pending >= this.#maxPending) {
      return Promise.reject(new LookupError("unavailable", `${this.#pending} lookups are already waiting for Redis`));
    }
    if (this.#client.status === "end") {
      return Promise.reject(new LookupError("unavailable", "the Redis connection is closed"));
    }
    return new Promise((resolve, reject) => {
      const call = new Lookup(field, resolve, reject);
      this.#pending += 1;
      this.#deadlines.add(call);
      if (this.#client.status === "ready") this.#send(call);
      else this.#sendWhenReady();
    });
  }

  #send(call) {
    call.sent = true;
    this.#client[SEND_LOOKUP](this.#storeKey, this.#expiresKey, call.field).then(
      (reply) => this.#answered(call, reply),
      (error) => this.#failed(call, error),
    );
  }

  // Sends the waiting lookups once the connection is ready (one listener for all of them);
  // those whose deadline passes first are refused by #expired, never sent.
  #sendWhenReady() {
    const client = this.#client;
    if (client.status === "wait") client.connect().catch(() => {});
    if (this.#waitingForReady) return;
    this.#waitingForReady = true;
    client.once("ready", () => {
      this.#waitingForReady = false;
      for (const call of this.#deadlines) {
        if (!call.settled && !call.sent) this.#send(call);
      }
    });
  }

  #answered(call, reply) {
    if (!this.#settle(call)) return;
    let found;
    try {
      found = this.#interpret(reply);
    } catch (error) {
      call.reject(error);
      return;
    }
    call.resolve(found);
  }

  #failed(call, error) {
    if (this.#settle(call)) call.reject(new LookupError("unavailable", `Redis lookup failed: ${error.message}`));
  }

  // Redis answered (or the connection dropped): the lookup is no longer pending, which it was
  // until now even past its deadline. True when it beat the deadline and is still to be settled.
  #settle(call) {
    this.#pending -= 1;
    if (call.settled) return false;
    call.settled = true;
    this.#deadlines.release();
    return true;
  }

  // The deadline passed first. A lookup never sent stops counting as pending now; a sent one
  // only when Redis answers it (#settle), so maxPendingLookups bounds what a stalled server holds.
  #expired = (call) => {
    call.settled = true;
    if (!call.sent) this.#pending -= 1;
    const what = this.#client.status === "ready" ? "did not answer" : "was not connected";
    call.reject(new LookupError("unavailable", `Redis ${what} within ${this.#timeout} ms`));
    if (this.#ownsClient) this.#replaceStalledConnection();
  };

  #interpret(reply) {
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
