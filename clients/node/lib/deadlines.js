"use strict";

// Deadlines for calls that all get the same time: since each is added after the one before, they
// expire in the order they were added, so a queue and one timer armed for its oldest call do the
// work of a timer and a Promise.race per call. Calls answered in order (Redis answers a connection
// in order) leave the queue as soon as they settle, so the queue stays short and its calls die
// young.

class Deadlines {
  #timeoutMs;
  #onExpired;
  #oldest = null;
  #newest = null;
  #timer = null;

  // onExpired(call) runs for each call still unsettled when its time is up, oldest first.
  constructor(timeoutMs, onExpired) {
    this.#timeoutMs = timeoutMs;
    this.#onExpired = onExpired;
  }

  // Watches a call: an object with a `settled` flag that its owner sets when it is answered.
  add(call) {
    call.deadline = performance.now() + this.#timeoutMs;
    call.next = null;
    if (this.#newest === null) this.#oldest = call;
    else this.#newest.next = call;
    this.#newest = call;
    // An armed timer is for an earlier deadline; when it fires it arms itself for the next one.
    if (this.#timer === null) this.#arm(this.#timeoutMs);
  }

  // Forgets the settled calls at the front of the queue; call it after settling one.
  release() {
    let call = this.#oldest;
    while (call !== null && call.settled) call = call.next;
    this.#oldest = call;
    if (call === null) this.#newest = null;
  }

  // Each call still in the queue, oldest first (settled ones included: check `settled`).
  *[Symbol.iterator]() {
    for (let call = this.#oldest; call !== null; call = call.next) yield call;
  }

  #arm(delayMs) {
    this.#timer = setTimeout(this.#expire, Math.max(1, Math.ceil(delayMs)));
    // The connection a call waits on keeps the process alive, not this timer.
    this.#timer.unref();
  }

  #expire = () => {
    this.#timer = null;
    const now = performance.now();
    let call = this.#oldest;
    while (call !== null && (call.settled || call.deadline <= now)) {
      this.#oldest = call.next;
      if (this.#oldest === null) this.#newest = null;
      if (!call.settled) this.#onExpired(call);
      call = this.#oldest;
    }
    if (call !== null && this.#timer === null) this.#arm(call.deadline - now);
  };
}

module.exports = { Deadlines };
