"use strict";

// Live revocation: which sockets were authenticated with which field, and a subscriber on
// "<storeKey>:revoked" that disconnects them when the gem removes the entry.

const MAX_TIMER_MS = 2 ** 31 - 1;
const RECHECK_RETRY_MS = 1000;
const RECHECK_BATCH = 100;

class Revocations {
  #subscriber;
  #channel;
  #store;
  #onError;
  #entries = new Map(); // field -> { sockets: Set<Socket>, timer, expiresAt: local ms or Infinity }
  #revokedWhilePending = new WeakSet();
  #closed = false;

  constructor({ subscriber, channel, store, onError }) {
    this.#subscriber = subscriber;
    this.#channel = channel;
    this.#store = store;
    this.#onError = onError;
    subscriber.on("message", (channel, field) => {
      if (channel === this.#channel) this.revoke(field);
    });
    // SUBSCRIBE on every (re)connection, then catch up on what the gap may have hidden.
    subscriber.on("ready", () => this.#subscribe());
    if (subscriber.status === "ready") this.#subscribe();
  }

  // Called before the lookup, so that a revocation racing with it is not missed.
  track(field, socket) {
    let entry = this.#entries.get(field);
    if (!entry) {
      entry = { sockets: new Set(), timer: null, expiresAt: Infinity };
      this.#entries.set(field, entry);
    }
    entry.sockets.add(socket);
  }

  // True when the field was revoked between track() and the end of the lookup.
  wasRevoked(socket) {
    return this.#revokedWhilePending.has(socket);
  }

  // The lookup found a live entry: forget the socket when it goes, disconnect it at expiry.
  accepted(field, socket, { expiresAt, now }) {
    // A socket that never connects (the client left, or a later middleware refused it) gets
    // no "disconnect" event; its transport closing is the last word. The transport may carry
    // many sockets (namespaces, reconnections) over its life, so each removes its listener.
    const conn = socket.conn;
    const forget = () => {
      socket.off("disconnect", forget);
      conn?.off("close", forget);
      this.untrack(field, socket);
    };
    if (conn && conn.readyState !== "open") return forget();
    socket.once("disconnect", forget);
    conn?.once("close", forget);
    this.#scheduleExpiry(field, expiresAt, now);
  }

  untrack(field, socket) {
    const entry = this.#entries.get(field);
    if (!entry) return;
    entry.sockets.delete(socket);
    if (entry.sockets.size === 0) this.#drop(field, entry);
  }

  // Disconnects every socket authenticated with the field; returns how many were connected.
  revoke(field) {
    const entry = this.#entries.get(field);
    if (!entry) return 0;
    this.#drop(field, entry);
    let disconnected = 0;
    for (const socket of entry.sockets) {
      if (socket.connected) {
        socket.disconnect(true);
        disconnected += 1;
      } else {
        this.#revokedWhilePending.add(socket);
      }
    }
    return disconnected;
  }

  // How many fields and sockets are tracked (for tests and metrics).
  get size() {
    let sockets = 0;
    for (const entry of this.#entries.values()) sockets += entry.sockets.size;
    return { fields: this.#entries.size, sockets };
  }

  close() {
    this.#closed = true;
    for (const entry of this.#entries.values()) clearTimeout(entry.timer);
    this.#entries.clear();
  }

  #drop(field, entry) {
    clearTimeout(entry.timer);
    this.#entries.delete(field);
  }

  #subscribe() {
    if (this.#closed) return;
    this.#subscriber.subscribe(this.#channel).then(
      () => this.#recheckAll(),
      (error) => this.#onError(new Error(`could not subscribe to ${this.#channel}: ${error.message}`)),
    );
  }

  // The entry's expiry is the gem's, in Redis time: wake up then and look again (a touch may
  // have moved it; a sweep that has not run yet would not have announced it). It is also kept
  // in local time, so that it is enforced while Redis cannot be asked.
  #scheduleExpiry(field, expiresAt, now) {
    const entry = this.#entries.get(field);
    if (!entry) return;
    entry.expiresAt = expiresAt === null ? Infinity : performance.now() + (expiresAt - now);
    if (expiresAt !== null) this.#wakeUpIn(field, entry, expiresAt - now + 1);
  }

  #wakeUpIn(field, entry, delayMs) {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => this.#recheck(field), Math.min(Math.max(delayMs, 0), MAX_TIMER_MS));
    entry.timer.unref();
  }

  // Looks the field up again; disconnects its sockets if the entry is gone or expired.
  async #recheck(field) {
    if (this.#closed || !this.#entries.has(field)) return;
    let result;
    try {
      result = await this.#store.lookup(field);
    } catch (error) {
      const entry = this.#entries.get(field);
      if (!entry || this.#closed) return;
      // An unreadable entry, or one whose last known expiry has passed: Redis cannot vouch for
      // it, so its sockets go.
      const untilExpiry = entry.expiresAt - performance.now();
      if (error.reason === "malformed" || untilExpiry <= 0) {
        this.revoke(field);
        return;
      }
      // Redis is away: keep the sockets and try again (by the expiry at the latest), rather
      // than disconnect everyone.
      this.#wakeUpIn(field, entry, Math.min(RECHECK_RETRY_MS, untilExpiry + 1));
      return;
    }
    if (result === null) this.revoke(field);
    else this.#scheduleExpiry(field, result.expiresAt, result.now);
  }

  // After a gap in the subscription, announcements may have been missed: look every tracked
  // field up again, a batch at a time.
  async #recheckAll() {
    const fields = [...this.#entries.keys()];
    for (let start = 0; start < fields.length && !this.#closed; start += RECHECK_BATCH) {
      await Promise.all(fields.slice(start, start + RECHECK_BATCH).map((field) => this.#recheck(field)));
    }
  }
}

module.exports = { Revocations };
