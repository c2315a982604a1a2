"use strict";

// Where a token is found, and which field it names. What a token looks like is the layout's
// (lib/layouts/).

const { createHash } = require("node:crypto");

// The token in a Cookie header, or null: also when isToken (the layout's check) refuses it. A
// header that is not a string, is empty or is larger than maxBytes is not parsed. Values are
// taken as sent (no percent-decoding): the gem writes plain hex and dots, so anything else is not
// one of its tokens. A header that carries the cookie more
// than once with different values is refused: a sibling subdomain can set a cookie of the same
// name that the browser sends first (cookie tossing), so no copy can be trusted.
function tokenFromCookieHeader(header, cookieName, maxBytes, isToken) {
  if (typeof header !== "string" || header.length === 0 || header.length > maxBytes
    || Buffer.byteLength(header) > maxBytes) {
    return null;
  }
  let value = null;
  for (const pair of header.split(";")) {
    const equals = pair.indexOf("=");
    if (equals === -1 || trimSpace(pair.slice(0, equals)) !== cookieName) continue;
    const candidate = trimSpace(pair.slice(equals + 1));
    if (value !== null && candidate !== value) return null;
    value = candidate;
  }
  return isToken(value) ? value : null;
}

// Cookie pairs are separated by "; " and may carry spaces or tabs around names and values.
// (A loop, not a regular expression: /[ \t]+$/ is quadratic on a long run of inner spaces.)
function trimSpace(text) {
  let start = 0;
  let end = text.length;
  while (start < end && isSpace(text.charCodeAt(start))) start += 1;
  while (end > start && isSpace(text.charCodeAt(end - 1))) end -= 1;
  return text.slice(start, end);
}

function isSpace(code) {
  return code === 0x20 || code === 0x09;
}

// The field the gem stores a token under and announces revocations with: the token, or its
// SHA-256 (hash_tokens), in either layout.
function fieldFor(token, hashTokens) {
  return hashTokens ? createHash("sha256").update(token, "latin1").digest("hex") : token;
}

module.exports = { tokenFromCookieHeader, fieldFor };
