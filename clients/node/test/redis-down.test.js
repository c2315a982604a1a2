"use strict";

// Redis stopped, stalled or unreachable: handshakes are refused within the command timeout,
// nothing piles up, the server stays up, and everything comes back with Redis.

const assert = require("node:assert/strict");
const http = require("node:http");
const { after, before, describe, it } = require("node:test");
const Redis = require("ioredis");
const { createAuthenticator } = require("..");
const { RedisServer, delay, eventually } = require("./support/redis-server");
const { Gem } = require("./support/gem");
const { startServer, connect, disconnection, whoami, cookieFor } = require("./support/harness");

const TIMEOUT_MS = 300;

function timed(promise) {
  const started = performance.now();
  return promise.then(
    (value) => ({ value, ms: performance.now() - started }),
    (error) => ({ error, ms: performance.now() - started }),
  );
}

// The Engine.IO handshake endpoint answers: the HTTP server is still up.
function serverAnswers(url) {
  return new Promise((resolve, reject) => {
    http.get(`${url}/socket.io/?EIO=4&transport=polling`, (response) => {
      response.resume();
      resolve(response.statusCode);
    }).on("error", reject);
  });
}

describe("when Redis fails", () => {
  let redis;
  let gem;
  let server;

  before(async () => {
    redis = await RedisServer.start();
    gem = Gem.start(redis.url);
    server = await startServer({ redis: redis.url, commandTimeout: TIMEOUT_MS });
  });

  after(async () => {
    await server?.close();
    await gem?.close();
    await redis?.cleanup();
  });

  it("refuses within the timeout while Redis is stopped, stays up, and recovers when it is back", async () => {
    const token = await gem.publish(`{ "user_id" => 31 }`);
    await redis.stop();

    const { error, ms } = await timed(connect(server.url, { cookie: cookieFor(token) }));
    assert.equal(error?.message, "unauthorized");
    assert.deepEqual(error.data, { reason: "unavailable" });
    assert.ok(ms < TIMEOUT_MS + 500, `${ms} ms`);
    assert.equal(await server.auth.authorize(cookieFor(token)), null);
    assert.equal(await serverAnswers(server.url), 200);
    assert.ok(server.errors.some((e) => /Redis (was not connected|lookup)/.test(e.message)));
    assert.ok(server.errors.every((e) => !e.message.includes(token)), "errors never name the token");

    await redis.start(); // same port, empty database
    const fresh = await gem.publish(`{ "user_id" => 32 }`);
    const socket = await eventually(() => connect(server.url, { cookie: cookieFor(fresh) }).catch(() => null), 5000);
    assert.ok(socket, "accepted again once Redis is back");
    assert.deepEqual(await whoami(socket), { user_id: 32 });

    // The subscriber came back too: sign-out still disconnects live sockets.
    const disconnected = disconnection(socket, 1000);
    await gem.eval(`SessionBridge.revoke(${JSON.stringify(fresh)})`);
    assert.equal((await disconnected).reason, "io server disconnect");
  });

  it("refuses within the timeout while Redis is stalled, and recovers when it answers again", async () => {
    const token = await gem.publish(`{ "user_id" => 33 }`);
    redis.pause();
    try {
      const attempts = await Promise.all(Array.from({ length: 5 }, () =>
        timed(connect(server.url, { cookie: cookieFor(token) }))));
      for (const { error, ms } of attempts) {
        assert.equal(error?.message, "unauthorized");
        assert.ok(ms < TIMEOUT_MS + 500, `${ms} ms`);
      }
    } finally {
      redis.resume();
    }
    const socket = await eventually(() => connect(server.url, { cookie: cookieFor(token) }).catch(() => null), 5000);
    assert.ok(socket, "accepted again once Redis answers");
    socket.close();
  });

  it("catches up on a revocation announced while the subscriber was reconnecting", async () => {
    const token = await gem.publish(`{ "user_id" => 34 }`);
    const socket = await connect(server.url, { cookie: cookieFor(token) });
    const disconnected = disconnection(socket, 2000);
    const admin = new Redis(redis.url);
    try {
      await admin.client("KILL", "TYPE", "pubsub");
      await gem.eval(`SessionBridge.revoke(${JSON.stringify(token)})`); // nobody is subscribed now
    } finally {
      admin.disconnect();
    }
    assert.equal((await disconnected).reason, "io server disconnect");
  });

  for (const [outage, begin, end] of [
    ["stalled", () => redis.pause(), () => redis.resume()],
    ["stopped", () => redis.stop(), () => redis.start()],
  ]) {
    it(`disconnects a socket at its entry's expiry while Redis is ${outage}`, async () => {
      await gem.configure({ ttl: 0.6 });
      let socket;
      try {
        socket = await connect(server.url, { cookie: cookieFor(await gem.publish(`{ "user_id" => 36 }`)) });
        const disconnected = disconnection(socket, 3000);
        await begin();
        try {
          // The expiry (600 ms) passes with Redis away; the recheck then fails within the timeout.
          const { reason, afterMs } = await disconnected;
          assert.equal(reason, "io server disconnect");
          assert.ok(afterMs < 600 + TIMEOUT_MS + 300, `${afterMs} ms`);
        } finally {
          await end();
        }
      } finally {
        socket?.close();
        await eventually(() => gem.configure({ ttl: "24 * 60 * 60" }).then(() => true, () => false), 5000);
      }
    });
  }

  it("bounds the lookups waiting on a stalled Redis (maxPendingLookups)", async () => {
    const auth = createAuthenticator({
      redis: redis.url, commandTimeout: TIMEOUT_MS, maxPendingLookups: 2, onError: () => {},
    });
    const token = await gem.publish(`{ "user_id" => 35 }`);
    assert.deepEqual(await auth.authorizeToken(token), { user_id: 35 });
    redis.pause();
    try {
      const waiting = [auth.authorizeToken(token), auth.authorizeToken(token)];
      const third = await timed(auth.authorizeToken(token));
      assert.equal(third.value, null);
      assert.ok(third.ms < 50, `the third lookup was refused at once, not after ${third.ms} ms`);
      assert.deepEqual(await Promise.all(waiting), [null, null]);
      // The stalled connection was dropped at the deadline, which settled its two commands: the
      // next lookup waits for a new connection instead of being refused for want of room.
      await delay(50);
      const fourth = await timed(auth.authorizeToken(token));
      assert.equal(fourth.value, null);
      assert.ok(fourth.ms >= TIMEOUT_MS - 50, `${fourth.ms} ms`);
    } finally {
      redis.resume();
      await auth.close();
    }
  });

  it("refuses within the timeout when Redis was never reachable, and closes promptly", async () => {
    const nowhere = await RedisServer.start();
    await nowhere.cleanup(); // a loopback port with nothing listening
    const errors = [];
    const auth = createAuthenticator({ redis: nowhere.url, commandTimeout: TIMEOUT_MS, onError: (e) => errors.push(e) });

    const { value, ms } = await timed(auth.authorize(cookieFor("0123456789abcdef0123456789abcdef")));
    assert.equal(value, null);
    assert.ok(ms < TIMEOUT_MS + 500, `${ms} ms`);
    assert.ok(errors.length > 0);

    const closing = await timed(auth.close());
    assert.ok(closing.ms < 100, `${closing.ms} ms`);
    assert.equal(await auth.authorize(cookieFor("0123456789abcdef0123456789abcdef")), null);
  });
});
