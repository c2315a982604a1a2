"use strict";

// Reads one entry the way the gem's fetch does, in one command and one round trip, with a deadline.
// The layout (lib/layouts/) names the keys, writes the script and reads its reply; ioredis sends
// the script with EVAL the first time on each connection and EVALSHA after (EVAL again on
// NOSCRIPT), to the node that holds its keys on a Redis Cluster.

const { parseEntry } = require("./entry");
const { Deadlines } = require("./deadlines");
const { LookupError } = require("./errors");

// One lookup in flight: sent (or waiting for the connection), answered or expired.
class Lookup {
  constructor(locator, resolve, reject) {
    this.locator = locator;
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
  #layout;
  #command; // the layout's script, in the variant that answers Buffers: limits apply to the bytes
  #settings;
  #timeout;
  #maxPending;
  #pending = 0; // sent and not answered by Redis yet, or waiting for the connection
  #deadlines;
  #waitingForReady = false;

  constructor(client, layout, settings, { ownsClient }) {
    this.#client = client;
    this.#ownsClient = ownsClient;
    this.#layout = layout;
    this.#command = `${layout.LOOKUP.name}Buffer`;
    this.#settings = settings;
    this.#timeout = settings.commandTimeout;
    this.#maxPending = settings.maxPendingLookups;
    this.#deadlines = new Deadlines(settings.commandTimeout, this.#expired);
    const { name, ...script } = layout.LOOKUP;
    client.defineCommand(name, script);
  }

  // Where the entry of a token is ({ field, args }), or null when the token is not of the
  // layout's shape.
  locate(token) {
    return this.#layout.isToken(token) ? this.#layout.locate(token, this.#settings) : null;
  }

  // { session, expiresInMs } for a live entry (expiresInMs null: it never expires), or null when
  // there is none or it has expired. Rejects with LookupError, at the latest commandTimeout after
  // the call.
  lookup(locator) {
    if (this.#pending >= this.#maxPending) {
      return Promise.reject(new LookupError("unavailable", `${this.#pending} lookups are already waiting for Redis`));
    }
    if (this.#client.status === "end") {
      return Promise.reject(new LookupError("unavailable", "the Redis connection is closed"));
    }
    return new Promise((resolve, reject) => {
      const call = new Lookup(locator, resolve, reject);
      this.#pending += 1;
      this.#deadlines.add(call);
      if (this.#client.status === "ready") this.#send(call);
      else this.#sendWhenReady();
    });
  }

  #send(call) {
    call.sent = true;
    this.#client[this.#command](...call.locator.args).then(
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
    const found = this.#layout.interpret(reply, this.#settings);
    if (found === null) return null;
    let session;
    try {
      session = parseEntry(found.entry);
    } catch (error) {
      throw new LookupError("malformed", `the entry under ${this.#settings.storeKey} ${error.message}`);
    }
    return { session, expiresInMs: found.expiresInMs };
  }

  // A connection that let a command miss its deadline may be stalled or half-open: a new one
  // replaces it rather than letting commands collect on it. Destroying the socket (rather than
  // a polite close, which waits for a peer that may never answer) fails its commands at once,
  // since maxRetriesPerRequest is 0, and ioredis reconnects. (A Redis Cluster has a connection
  // per node and no `stream`: the heartbeat replaces a stalled node's, see superviseConnection.)
  #replaceStalledConnection() {
    if (this.#client.status === "ready") this.#client.stream?.destroy();
  }
}

module.exports = { SessionStore, LookupError };
