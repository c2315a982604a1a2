"use strict";

// hashTokens: the gem stores SHA-256(token); the cookie still holds the token.

const assert = require("node:assert/strict");
const { after, before, describe, it } = require("node:test");
const Redis = require("ioredis");
const { fieldFor } = require("..");
const { RedisServer } = require("./support/redis-server");
const { Gem } = require("./support/gem");
const { startServer, connect, disconnection, whoami, cookieFor } = require("./support/harness");

describe("with the gem's hash_tokens: true", () => {
  let redis;
  let gem;
  let hashing;
  let plain;

  before(async () => {
    redis = await RedisServer.start();
    gem = Gem.start(redis.url);
    await gem.configure({ hash_tokens: true });
    hashing = await startServer({ redis: redis.url, hashTokens: true });
    plain = await startServer({ redis: redis.url });
  });

  after(async () => {
    await hashing?.close();
    await plain?.close();
    await gem?.close();
    await redis?.cleanup();
  });

  it("a companion with hashTokens: true accepts the cookie; one without refuses it", async () => {
    const token = await gem.publish(`{ "user_id" => 21 }`, { userId: 21 });
    const inspector = new Redis(redis.url);
    try {
      assert.deepEqual(await inspector.hkeys("mySessionStore"), [fieldFor(token, true)]);
    } finally {
      inspector.disconnect();
    }

    const socket = await connect(hashing.url, { cookie: cookieFor(token) });
    assert.deepEqual(await whoami(socket), { user_id: 21 });
    socket.close();
    await assert.rejects(connect(plain.url, { cookie: cookieFor(token) }), { message: "unauthorized" });
  });

  it("does not accept the stored field in place of the token", async () => {
    const token = await gem.publish(`{ "user_id" => 22 }`);
    const field = fieldFor(token, true);

    await assert.rejects(connect(hashing.url, { cookie: cookieFor(field.slice(0, 32)) }), { message: "unauthorized" });
    await assert.rejects(connect(plain.url, { cookie: cookieFor(field.slice(0, 32)) }), { message: "unauthorized" });
  });

  it("disconnects the live socket when the gem revokes (the channel carries the hashed field)", async () => {
    const token = await gem.publish(`{ "user_id" => 23 }`, { userId: 23 });
    const socket = await connect(hashing.url, { cookie: cookieFor(token) });
    const disconnected = disconnection(socket, 1000);

    assert.equal(await gem.eval(`SessionBridge.revoke(${JSON.stringify(token)})`), true);

    assert.equal((await disconnected).reason, "io server disconnect");
    await assert.rejects(connect(hashing.url, { cookie: cookieFor(token) }), { message: "unauthorized" });
  });
});
