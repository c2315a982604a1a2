"use strict";

// A revocation channel that goes silent: the subscriber's TCP flow is dropped without FIN or RST
// (a NAT reset, a failover). The companion must notice on its own, reconnect, and look again.

const assert = require("node:assert/strict");
const { after, before, describe, it } = require("node:test");
const Redis = require("ioredis");
const { RedisServer, eventually } = require("./support/redis-server");
const { Gem } = require("./support/gem");
const { TcpProxy } = require("./support/tcp-proxy");
const { startServer, connect, disconnection, whoami, cookieFor } = require("./support/harness");

// The bound the README documents for a revocation lost to a silently dead subscriber.
const DOCUMENTED_BOUND_MS = 5000;

describe("when the subscriber's connection silently dies", () => {
  let redis;
  let gem;
  let admin;

  before(async () => {
    redis = await RedisServer.start();
    gem = Gem.start(redis.url);
    admin = new Redis(redis.url);
  });

  after(async () => {
    admin?.disconnect();
    await gem?.close();
    await redis?.cleanup();
  });

  // Resolves once `count` clients are subscribed to the revocation channel.
  function subscribers(count) {
    return eventually(async () => {
      const [, subscribed] = await admin.pubsub("NUMSUB", "mySessionStore:revoked");
      return subscribed === count;
    }, 3000);
  }

  async function revokedWhileBlackHoled(server, proxy) {
    const token = await gem.publish(`{ "user_id" => 51 }`);
    const socket = await connect(server.url, { cookie: cookieFor(token) });
    assert.deepEqual(await whoami(socket), { user_id: 51 });

    proxy.blackHole();
    const disconnected = disconnection(socket, DOCUMENTED_BOUND_MS);
    assert.equal(await gem.eval(`SessionBridge.revoke(${JSON.stringify(token)})`), true);

    const { reason, afterMs } = await disconnected;
    assert.equal(reason, "io server disconnect");
    return afterMs;
  }

  it("disconnects a revoked socket within the documented bound (subscriber flow black-holed)", async (t) => {
    const proxy = await TcpProxy.start(redis.port);
    const lookups = new Redis(redis.url);
    // Lookups go straight to Redis; the subscriber (a duplicate with redisOptions) through the proxy.
    const server = await startServer({ redis: lookups, redisOptions: { port: proxy.port } });
    try {
      assert.ok(await subscribers(1));
      const afterMs = await revokedWhileBlackHoled(server, proxy);
      t.diagnostic(`disconnected ${Math.round(afterMs)} ms after the revocation`);
      assert.ok(server.errors.some((e) => /subscriber .*PING/.test(e.message)), "the dead connection is reported");
      assert.ok(await subscribers(2), "subscribed again over a new connection (the old one still counts)");
    } finally {
      await server.close();
      lookups.disconnect();
      await proxy.close();
    }
  });

  it("disconnects a revoked socket within the documented bound (every flow black-holed)", async (t) => {
    const proxy = await TcpProxy.start(redis.port);
    const server = await startServer({ redis: proxy.url });
    try {
      assert.ok(await subscribers(1));
      const afterMs = await revokedWhileBlackHoled(server, proxy);
      t.diagnostic(`disconnected ${Math.round(afterMs)} ms after the revocation`);
    } finally {
      await server.close();
      await proxy.close();
    }
  });
});
