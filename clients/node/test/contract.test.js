"use strict";

// The companion against the fixtures in contract/ (which spec/contract_spec.rb checks against
// the gem), and against what the gem really writes.

const assert = require("node:assert/strict");
const { after, before, describe, it } = require("node:test");
const Redis = require("ioredis");
const { createAuthenticator, DEFAULTS, TOKEN_PATTERN, fieldFor } = require("..");
const { RedisServer, delay, eventually } = require("./support/redis-server");
const { Gem } = require("./support/gem");
const { contract } = require("./support/contract");
const { MAX_READ_DEPTH, MAX_PAYLOAD_BYTES } = require("../lib/entry");
const { startServer, connect, whoami, cookieFor, commandCalls } = require("./support/harness");

const wire = contract("wire");
const layout = (name, storeKey = wire.store_key) => wire.keys[name].name.replace("{store_key}", storeKey);

describe("the wire contract", () => {
  it("has the contract's defaults and token shape", () => {
    assert.equal(DEFAULTS.cookieName, wire.cookie.name);
    assert.equal(DEFAULTS.storeKey, wire.store_key);
    assert.equal(TOKEN_PATTERN.source, wire.cookie.token_pattern);
  });

  it("derives the contract's field from a token with hashTokens", () => {
    for (const { token, field } of contract("hash_tokens").examples) {
      assert.equal(fieldFor(token, true), field);
      assert.equal(fieldFor(token, false), token);
    }
  });
});

describe("reading what the gem writes", () => {
  let server;
  let gem;
  let redis;
  let auth;

  before(async () => {
    server = await RedisServer.start();
    gem = Gem.start(server.url);
    redis = new Redis(server.url);
    auth = createAuthenticator({ redis: server.url, onError: () => {} });
  });

  after(async () => {
    await auth?.close();
    redis?.disconnect();
    await gem?.close();
    await server?.cleanup();
  });

  it("finds the contract's exact JSON for each example, and the session is its JSON.parse", async () => {
    for (const example of contract("json_examples").examples) {
      const token = await gem.publish(example.ruby);

      assert.match(token, TOKEN_PATTERN);
      assert.equal(await redis.hget(wire.store_key, token), example.stored, example.name);
      assert.deepEqual(await auth.authorize(cookieFor(token)), JSON.parse(example.stored), example.name);
    }
  });

  it("agrees with a seed-style reader (HGET <store_key> <cookie value>, JSON.parse)", async () => {
    const token = await gem.publish(`{ "user_id" => 42, "username" => "ada@example.com" }`, { userId: 42 });
    const seedStyle = JSON.parse(await redis.hget("mySessionStore", token));

    assert.deepEqual(await auth.authorize(cookieFor(token)), seedStyle);
    assert.deepEqual(seedStyle, { user_id: 42, username: "ada@example.com" });
  });

  it("accepts an entry written the seed way (plain HSET, no expiry score): it never expires", async () => {
    const [{ token }] = contract("hash_tokens").examples;
    await redis.hset(wire.store_key, token, '{"user_id":9}');

    assert.deepEqual(await auth.authorize(cookieFor(token)), { user_id: 9 });
    assert.deepEqual(await auth.authorizeToken(token), { user_id: 9 });
  });

  it("judges expiry by Redis' clock: a score at or before Redis' now is expired", async () => {
    const [, { token }] = contract("hash_tokens").examples;
    await redis.hset(wire.store_key, token, '{"user_id":10}');
    const [seconds, micros] = await redis.time();
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);

    await redis.zadd(layout("expires"), now + 60_000, token);
    assert.deepEqual(await auth.authorizeToken(token), { user_id: 10 });
    await redis.zadd(layout("expires"), now, token);
    assert.equal(await auth.authorizeToken(token), null);
    assert.equal(await redis.hexists(wire.store_key, token), 1, "the reader only reads");
  });

  it("subscribes to the contract's revocation channel", async () => {
    const channel = wire.revocation_channel.replace("{store_key}", wire.store_key);
    assert.deepEqual(await eventually(async () => (await redis.pubsub("CHANNELS")).length > 0
      && redis.pubsub("CHANNELS")), [channel]);
  });

  it("follows a configured store_key and cookie name", async () => {
    await gem.configure({ store_key: '"otherStore"', cookie_name: '"sid"' });
    const other = createAuthenticator({ redis: server.url, storeKey: "otherStore", cookieName: "sid" });
    try {
      const token = await gem.publish(`{ "user_id" => 11 }`);
      assert.equal(await redis.type(layout("entries", "otherStore")), "hash");
      assert.equal(await redis.type(layout("expires", "otherStore")), "zset");

      assert.deepEqual(await other.authorize(`sid=${token}`), { user_id: 11 });
      assert.equal(await other.authorize(cookieFor(token)), null);
      assert.equal(await auth.authorize(`sid=${token}`), null);
      assert.ok(await eventually(async () => (await redis.pubsub("CHANNELS")).includes("otherStore:revoked")));
    } finally {
      await other.close();
      await gem.configure({ store_key: '"mySessionStore"', cookie_name: '"_validation_token_key"' });
    }
  });
});

describe("the read limits (contract/read_limits.json)", () => {
  const limits = contract("read_limits");
  const [{ token }] = contract("hash_tokens").examples;
  let server;
  let redis;
  let guarded;

  // The entry a case describes, built as its "building" key says.
  function entryFor(example) {
    if ("json" in example) return example.json;
    if ("nest" in example) return `{"a":${"[".repeat(example.nest)}${"]".repeat(example.nest)}}`;
    const shell = '{"pad":""}';
    return `{"pad":"${"x".repeat(example.pad_to - shell.length)}"}`;
  }

  before(async () => {
    server = await RedisServer.start();
    redis = new Redis(server.url);
    guarded = await startServer({ redis: server.url });
  });

  after(async () => {
    await guarded?.close();
    redis?.disconnect();
    await server?.cleanup();
  });

  it("enforces the contract's numbers", () => {
    assert.equal(MAX_READ_DEPTH, limits.max_read_depth);
    assert.equal(MAX_PAYLOAD_BYTES, limits.max_payload_bytes);
  });

  for (const example of limits.cases) {
    it(`${example.accepted ? "accepts" : "refuses, as malformed,"} ${example.name}`, async () => {
      const entry = entryFor(example);
      if ("pad_to" in example) assert.equal(Buffer.byteLength(entry), example.pad_to);
      await redis.hset(wire.store_key, token, entry);
      guarded.errors.length = 0;

      const session = await guarded.auth.authorizeToken(token);

      if (example.accepted) {
        assert.deepEqual(session, JSON.parse(entry));
        assert.deepEqual(guarded.errors, []);
      } else {
        assert.equal(session, null);
        assert.equal(guarded.errors.length, 1);
        assert.match(guarded.errors[0].message, /^the entry under mySessionStore /);
        assert.ok(!guarded.errors[0].message.includes(entry.slice(0, 20)), "the message never quotes the entry");
      }
    });
  }

  it("refuses an entry that is not valid UTF-8, or starts with a byte order mark", async () => {
    for (const bytes of [Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), Buffer.from('\ufeff{"a":1}')]) {
      await redis.hset(wire.store_key, token, bytes);
      assert.equal(await guarded.auth.authorizeToken(token), null);
    }
  });

  it("refuses a handshake whose entry nests 20,000 levels, and keeps serving", async () => {
    await redis.hset(wire.store_key, token, entryFor({ nest: 20_000 }));
    await assert.rejects(connect(guarded.url, { token }), { message: "unauthorized" });

    await redis.hset(wire.store_key, token, '{"user_id":12}');
    const socket = await connect(guarded.url, { token });
    assert.deepEqual(await whoami(socket), { user_id: 12 });
    socket.close();
  });
});

describe("expiry scores that are not finite numbers", () => {
  const [, { token }] = contract("hash_tokens").examples;
  let server;
  let redis;
  let guarded;

  before(async () => {
    server = await RedisServer.start();
    redis = new Redis(server.url);
    guarded = await startServer({ redis: server.url });
  });

  after(async () => {
    await guarded?.close();
    redis?.disconnect();
    await server?.cleanup();
  });

  for (const score of ["inf", "+inf", "-inf"]) {
    it(`refuses the entry, once, when its score is ${score}`, async () => {
      await redis.hset(wire.store_key, token, '{"user_id":13}');
      await redis.zadd(layout("expires"), score, token);
      guarded.errors.length = 0;

      assert.equal(await guarded.auth.authorizeToken(token), null);
      await assert.rejects(connect(guarded.url, { token }), { message: "unauthorized" });
      assert.ok(guarded.errors.length > 0
        && guarded.errors.every((e) => /mySessionStore:expires is not a finite number/.test(e.message)));

      const before = await commandCalls(redis);
      await delay(300);
      assert.equal((await commandCalls(redis)).hget ?? 0, before.hget ?? 0, "no lookups keep coming");
      assert.deepEqual(guarded.auth.tracked, { fields: 0, sockets: 0 });
    });
  }

  it("cannot be given a NaN score: Redis refuses it", async () => {
    await assert.rejects(redis.zadd(layout("expires"), "nan", token), /not a valid float/);
  });
});
