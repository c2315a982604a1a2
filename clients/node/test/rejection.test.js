"use strict";

// What is refused before Redis is asked: missing, malformed and oversized cookies and tokens,
// and handshakes from origins outside the allowlist.

const assert = require("node:assert/strict");
const { after, before, describe, it } = require("node:test");
const Redis = require("ioredis");
const { createAuthenticator } = require("..");
const { RedisServer } = require("./support/redis-server");
const { Gem } = require("./support/gem");
const { startServer, connect, cookieFor, commandCalls, whoami } = require("./support/harness");

const WELL_FORMED = "0123456789abcdef0123456789abcdef";

describe("refusing without asking Redis", () => {
  let redis;
  let inspector;
  let gem;
  let server;
  let token;

  before(async () => {
    redis = await RedisServer.start();
    inspector = new Redis(redis.url);
    gem = Gem.start(redis.url);
    token = await gem.publish(`{ "user_id" => 1 }`);
    // Node's default header limit (16 KiB) would refuse a 100 KB cookie before the companion sees it.
    server = await startServer({ redis: redis.url }, { maxHeaderSize: 256 * 1024 });
    await connect(server.url, { cookie: cookieFor(token) }).then((socket) => socket.close());
  });

  after(async () => {
    await server?.close();
    inspector?.disconnect();
    await gem?.close();
    await redis?.cleanup();
  });

  async function assertNoRedisCommand(action) {
    const before = await commandCalls(inspector);
    await action();
    assert.deepEqual(await commandCalls(inspector), before);
  }

  const badCookies = {
    "no cookie header": undefined,
    "an empty cookie header": "",
    "other cookies only": "_session_id=abc; theme=dark",
    garbage: ";;;==;=x=; _validation_token_key; _validation_token_key==; ,,,\\\"'",
    "an empty token": cookieFor(""),
    "a short token": cookieFor(WELL_FORMED.slice(1)),
    "a long token": cookieFor(`${WELL_FORMED}0`),
    "an upper-case token": cookieFor(WELL_FORMED.toUpperCase()),
    "a percent-encoded token": cookieFor(`%30${WELL_FORMED.slice(1)}`),
    "a percent-encoded CRLF": cookieFor(`${WELL_FORMED.slice(0, 26)}%0d%0aQUIT`),
    "a quoted token": cookieFor(`"${WELL_FORMED}"`),
    "a 100 KB cookie": cookieFor("a".repeat(100 * 1024)),
    "a 100 KB header around a live token": () => `${cookieFor(token)}; pad=${"x".repeat(100 * 1024)}`,
  };

  for (const [name, cookie] of Object.entries(badCookies)) {
    it(`refuses a socket with ${name}`, async () => {
      await assertNoRedisCommand(async () => {
        await assert.rejects(connect(server.url, { cookie: typeof cookie === "function" ? cookie() : cookie }),
          { message: "unauthorized" });
      });
    });
  }

  it("refuses CRLF-laden cookie headers and non-string headers in authorize()", async () => {
    await assertNoRedisCommand(async () => {
      for (const header of [
        `_validation_token_key=${WELL_FORMED}\r\nFLUSHALL`,
        `_validation_token_key=${WELL_FORMED.slice(0, 30)}\r\n`,
        `_validation_token_key=\r\n${WELL_FORMED}`,
        `x=1\r\n_validation_token_key=${WELL_FORMED}X`,
        "\u0000\u0001\u0002;;;==;=x=;\u00ff\u{1F600}",
        ...Object.values(badCookies).map((cookie) => (typeof cookie === "function" ? cookie() : cookie)),
        null, 42, ["_validation_token_key", WELL_FORMED], { toString: () => cookieFor(token) },
      ]) {
        assert.equal(await server.auth.authorize(header), null, JSON.stringify(header)?.slice(0, 60));
      }
    });
  });

  it("refuses a Cookie header that names the session cookie twice with different values (cookie tossing)", async () => {
    const attacker = await gem.publish(`{ "user_id" => 666 }`);
    for (const cookie of [
      `_validation_token_key=${attacker}; _validation_token_key=${token}`,
      `_validation_token_key=${token}; theme=dark; _validation_token_key=${attacker}`,
      `_validation_token_key=${attacker};_validation_token_key= ${token}`,
      `_validation_token_key=; _validation_token_key=${token}`,
      `_validation_token_key=${token}; _validation_token_key=${WELL_FORMED}`,
    ]) {
      await assertNoRedisCommand(async () => {
        await assert.rejects(connect(server.url, { cookie }), { message: "unauthorized" }, cookie);
        assert.equal(await server.auth.authorize(cookie), null, cookie);
      });
    }
  });

  it("accepts the session cookie repeated with the same value", async () => {
    const cookie = `_validation_token_key=${token}; theme=dark; _validation_token_key=${token}`;
    const socket = await connect(server.url, { cookie });
    assert.deepEqual(await whoami(socket), { user_id: 1 });
    socket.close();
    assert.deepEqual(await server.auth.authorize(cookie), { user_id: 1 });
  });

  it("refuses a malformed handshake.auth.token, even alongside a valid cookie", async () => {
    await assertNoRedisCommand(async () => {
      for (const bad of ["", "x", WELL_FORMED.toUpperCase(), `${WELL_FORMED}\r\n`, "a".repeat(100_000), 42, null,
        [token], { token }]) {
        await assert.rejects(connect(server.url, { token: bad, cookie: cookieFor(token) }), { message: "unauthorized" });
      }
    });
  });

  it("asks Redis one command (a read-only script: HGET, ZSCORE, TIME) for a well-formed token", async () => {
    // The first lookup on a server may need EVAL after EVALSHA's NOSCRIPT; measure the next one.
    await assert.rejects(connect(server.url, { cookie: cookieFor(WELL_FORMED) }), { message: "unauthorized" });
    const before = await commandCalls(inspector);
    await assert.rejects(connect(server.url, { cookie: cookieFor(WELL_FORMED) }), { message: "unauthorized" });
    const afterCalls = await commandCalls(inspector);
    const delta = Object.fromEntries(Object.entries(afterCalls)
      .map(([name, calls]) => [name, calls - (before[name] || 0)]).filter(([, calls]) => calls > 0));
    assert.deepEqual(delta, { evalsha: 1, hget: 1, zscore: 1, time: 1 });
  });

  describe("with an origins allowlist", () => {
    let guarded;
    let strict;

    before(async () => {
      guarded = await startServer({ redis: redis.url, origins: ["https://app.example.com"] });
      strict = await startServer({ redis: redis.url, origins: ["https://app.example.com"], allowMissingOrigin: false });
    });

    after(async () => {
      await guarded?.close();
      await strict?.close();
    });

    it("accepts a listed Origin and refuses any other without asking Redis", async () => {
      const socket = await connect(guarded.url, { cookie: cookieFor(token), origin: "https://app.example.com" });
      assert.deepEqual(await whoami(socket), { user_id: 1 });
      socket.close();
      await assertNoRedisCommand(async () => {
        for (const origin of ["https://evil.example", "https://app.example.com.evil.example", "null",
          "http://app.example.com", "https://APP.example.com"]) {
          await assert.rejects(connect(guarded.url, { cookie: cookieFor(token), origin }), { message: "unauthorized" });
        }
      });
    });

    it("accepts a handshake without Origin (same-origin polling, non-browser) unless allowMissingOrigin is false", async () => {
      (await connect(guarded.url, { cookie: cookieFor(token) })).close();
      await assert.rejects(connect(strict.url, { cookie: cookieFor(token) }), { message: "unauthorized" });
      (await connect(strict.url, { cookie: cookieFor(token), origin: "https://app.example.com" })).close();
    });
  });

  it("refuses bad options when the authenticator is created", () => {
    for (const options of [
      { storeKey: "" }, { storeKey: "my store" }, { storeKey: "a\r\nFLUSHALL" }, { storeKey: "k".repeat(257) },
      { cookieName: "bad name" }, { cookieName: "" }, { hashTokens: "yes" }, { commandTimeout: 0 },
      { connectTimeout: -1 }, { maxPendingLookups: Infinity }, { origins: [1] }, { redis: 42 }, { redis: "" },
      { onError: "log" },
    ]) {
      assert.throws(() => createAuthenticator(options), TypeError, JSON.stringify(options));
    }
  });
});
