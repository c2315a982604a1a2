"use strict";

// What a stored entry may be (contract/read_limits.json, as the gem's reader enforces it): a JSON
// object of valid UTF-8, at most MAX_PAYLOAD_BYTES, nested at most MAX_READ_DEPTH levels, with no
// lone surrogate escape. The raw text is scanned before JSON.parse, in one loop without recursion,
// so no entry can exhaust the stack here or later (socket.io-parser walks a session recursively).

const MAX_READ_DEPTH = 128;
const MAX_PAYLOAD_BYTES = 65536;

// fatal: invalid UTF-8 is refused, not replaced; ignoreBOM: a byte order mark is kept, so it
// fails JSON.parse as the gem refuses it.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

// The session stored as `bytes` (a Buffer). Throws an Error saying why an entry is refused; the
// message never contains the entry.
function parseEntry(bytes) {
  if (bytes.length > MAX_PAYLOAD_BYTES) throw new Error(`is larger than ${MAX_PAYLOAD_BYTES} bytes`);
  let text;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new Error("is not valid UTF-8");
  }
  const problem = scan(text);
  if (problem) throw new Error(problem);
  let session;
  try {
    session = JSON.parse(text);
  } catch {
    throw new Error("is not valid JSON");
  }
  if (session === null || typeof session !== "object" || Array.isArray(session)) {
    throw new Error("is JSON but not an object");
  }
  return session;
}

// Why `text` breaks a limit JSON.parse does not enforce, or null. Syntax errors are left to
// JSON.parse; this only counts nesting outside strings and pairs \u surrogate escapes.
function scan(text) {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === QUOTE) {
        inString = false;
      } else if (code === BACKSLASH) {
        if (text.charCodeAt(i + 1) !== 0x75 /* u */) {
          i += 1; // a one-character escape such as \" or \\
          continue;
        }
        const unit = escapedUnit(text, i);
        if (unit >= 0xdc00 && unit <= 0xdfff) return "contains a lone surrogate escape";
        if (unit >= 0xd800 && unit <= 0xdbff) {
          const next = escapedUnit(text, i + 6);
          if (!(next >= 0xdc00 && next <= 0xdfff)) return "contains a lone surrogate escape";
          i += 6; // the pair's low half
        }
        i += 5;
      }
    } else if (code === QUOTE) {
      inString = true;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      depth += 1;
      if (depth > MAX_READ_DEPTH) return `nests deeper than ${MAX_READ_DEPTH} levels`;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth -= 1;
    }
  }
  return null;
}

// The UTF-16 unit of the \uXXXX escape starting at `at`, or -1 when there is none there.
function escapedUnit(text, at) {
  if (text.charCodeAt(at) !== BACKSLASH || text.charCodeAt(at + 1) !== 0x75) return -1;
  const hex = text.slice(at + 2, at + 6);
  return /^[0-9a-fA-F]{4}$/.test(hex) ? Number.parseInt(hex, 16) : -1;
}

module.exports = { parseEntry, MAX_READ_DEPTH, MAX_PAYLOAD_BYTES };
