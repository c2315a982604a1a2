"use strict";

// The error a lookup is refused with. onError receives it; index.js exports it.

class LookupError extends Error {
  // reason: "unavailable" (Redis down, slow, busy or failing over) or "malformed" (the entry is
  // not a JSON object within the contract's read limits, or its expiry is not a finite number)
  constructor(reason, message) {
    super(message);
    this.name = "LookupError";
    this.reason = reason;
  }
}

module.exports = { LookupError };
