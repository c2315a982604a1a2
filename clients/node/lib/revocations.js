"use strict";

// Live revocation: which connections were authenticated with which field, and a subscriber on
// "<storeKey>:revoked" that ends them when the gem removes the entry or it expires.
//
// A connection is tracked through a handle that each adapter makes: { open, end(reason) },
// where `open` says whether it can be ended now and `end` closes it (Socket.IO: disconnect(true);
// ws: close(4001, reason)). Ending it is left to the adapter; forgetting it (untrack) too.

const MAX_TIMER_MS = 2 ** 31 - 1;
const RECHECK_RETRY_MS = 1000;
const RECHECK_BATCH = 100;

// Why a connection was ended, as a ws close reason says it.
const REASONS = Object.freeze({ revoked: "session revoked", expired: "session expired" });

class Revocations {
  #subscriber;
  #channel;
  #store;
  #onError;
  #entries = new Map(); // field -> { locator, handles: Set<handle>, timer, expiresAt: local ms or Infinity }
  #revokedWhilePending = new WeakMap(); // handle -> reason
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

  // Called before the lookup, so that a revocation racing with it is not missed. The locator
  // (store.locate) is where the entry is looked up again.
  track(locator, handle) {
    const { field } = locator;
    let entry = this.#entries.get(field);
    if (!entry) {
      entry = { locator, handles: new Set(), timer: null, expiresAt: Infinity };
      this.#entries.set(field, entry);
    }
    entry.handles.add(handle);
  }

  // The reason, when the field was revoked while the handle could not be ended yet (between
  // track() and the lookup's end, or before a ws connection opened); else undefined.
  revokedReason(handle) {
    return this.#revokedWhilePending.get(handle);
  }

  // The lookup found a live entry: end its connections at expiry. The adapter untracks each
  // handle when its connection goes.
  accepted(field, { expiresInMs }) {
    this.#scheduleExpiry(field, expiresInMs);
  }

  untrack(field, handle) {
    const entry = this.#entries.get(field);
    if (!entry) return;
    entry.handles.delete(handle);
    if (entry.handles.size === 0) this.#drop(field, entry);
  }

  // Ends every connection authenticated with the field; returns how many were open. The reason
  // is "session expired" once the expiry last read has passed, else "session revoked".
  revoke(field) {
    const entry = this.#entries.get(field);
    if (!entry) return 0;
    this.#drop(field, entry);
    const reason = entry.expiresAt <= performance.now() ? REASONS.expired : REASONS.revoked;
    let ended = 0;
    for (const handle of entry.handles) {
      if (handle.open) {
        handle.end(reason);
        ended += 1;
      } else {
        this.#revokedWhilePending.set(handle, reason);
      }
    }
    return ended;
  }

  // How many fields and connections are tracked (for tests and metrics).
  get size() {
    let sockets = 0;
    for (const entry of this.#entries.values()) sockets += entry.handles.size;
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

  // The entry's expiry, as Redis judges it (the hash layout's score against Redis' clock, or the
  // cluster layout's PTTL): wake up then and look again (a touch may have moved it; expiry is
  // not announced, or not yet). It is also kept in local time, so that it is enforced while
  // Redis cannot be asked.
  #scheduleExpiry(field, expiresInMs) {
    const entry = this.#entries.get(field);
    if (!entry) return;
    entry.expiresAt = expiresInMs === null ? Infinity : performance.now() + expiresInMs;
    if (expiresInMs !== null) this.#wakeUpIn(field, entry, expiresInMs + 1);
  }

  #wakeUpIn(field, entry, delayMs) {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => this.#recheck(field), Math.min(Math.max(delayMs, 0), MAX_TIMER_MS));
    entry.timer.unref();
  }

  // Looks the field up again; ends its connections if the entry is gone or expired.
  async #recheck(field) {
    const tracked = this.#entries.get(field);
    if (this.#closed || !tracked) return;
    let result;
    try {
      result = await this.#store.lookup(tracked.locator);
    } catch (error) {
      const entry = this.#entries.get(field);
      if (!entry || this.#closed) return;
      // An unreadable entry, or one whose last known expiry has passed: Redis cannot vouch for
      // it, so its connections go.
      const untilExpiry = entry.expiresAt - performance.now();
      if (error.reason === "malformed" || untilExpiry <= 0) {
        this.revoke(field);
        return;
      }
      // Redis is away: keep the connections and try again (by the expiry at the latest), rather
      // than disconnect everyone.
      this.#wakeUpIn(field, entry, Math.min(RECHECK_RETRY_MS, untilExpiry + 1));
      return;
    }
    if (result === null) this.revoke(field);
    else this.#scheduleExpiry(field, result.expiresInMs);
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

module.exports = { Revocations, REASONS };
