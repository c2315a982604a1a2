"use strict";

// What a token looks like, where it is found, and which hash field it names.

const { createHash } = require("node:crypto");
const cookie = require("cookie");

const TOKEN_PATTERN = /^[0-9a-f]{32}$/;

function isToken(value) {
  return typeof value === "string" && value.length === 32 && TOKEN_PATTERN.test(value);
}

// The token in a Cookie header, or null. A header that is not a string, is empty or is larger
// than maxBytes is not parsed. Values are taken as sent (no percent-decoding): the gem writes
// plain hex, so anything else is not one of its tokens.
function tokenFromCookieHeader(header, cookieName, maxBytes) {
  if (typeof header !== "string" || header.length === 0 || header.length > maxBytes
    || Buffer.byteLength(header) > maxBytes) {
    return null;
  }
  const value = cookie.parse(header, { decode: (raw) => raw })[cookieName];
  return isToken(value) ? value : null;
}

// The Redis hash field the gem stores a token under: the token, or its SHA-256 (hash_tokens).
function fieldFor(token, hashTokens) {
  return hashTokens ? createHash("sha256").update(token, "latin1").digest("hex") : token;
}

module.exports = { TOKEN_PATTERN, isToken, tokenFromCookieHeader, fieldFor };
