"use strict";

// The lookup itself: one read-only script per lookup (EVAL once per connection, EVALSHA after),
// answered by a read-only replica too, and a deadline of its own for every lookup.

const assert = require("node:assert/strict");
const { after, before, describe, it } = require("node:test");
const Redis = require("ioredis");
const { createAuthenticator } = require("..");
const { RedisServer, delay, eventually } = require("./support/redis-server");
const { Gem } = require("./support/gem");
const { commandCalls } = require("./support/harness");

// The commands Redis ran while `action` ran, by name, with how many times.
async function commandsDuring(inspector, action) {
  const before = await commandCalls(inspector);
  await action();
  const after = await commandCalls(inspector);
  return Object.fromEntries(Object.entries(after)
    .map(([name, calls]) => [name, calls - (before[name] || 0)]).filter(([, calls]) => calls > 0));
}

function timed(promise) {
  const started = performance.now();
  return promise.then((value) => ({ value, ms: performance.now() - started }));
}

describe("looking an entry up", () => {
  let redis;
  let inspector;
  let gem;
  let auth;
  let token;

  before(async () => {
    redis = await RedisServer.start();
    inspector = new Redis(redis.url);
    gem = Gem.start(redis.url);
    token = await gem.publish(`{ "user_id" => 71 }`);
    const subscribes = (await commandCalls(inspector)).subscribe ?? 0;
    auth = createAuthenticator({ redis: redis.url, onError: () => {} });
    // Let the subscriber's SUBSCRIBE pass before counting commands.
    await eventually(async () => ((await commandCalls(inspector)).subscribe ?? 0) > subscribes);
  });

  after(async () => {
    await auth?.close();
    inspector?.disconnect();
    await gem?.close();
    await redis?.cleanup();
  });

  it("sends the script with EVAL the first time on a connection, then one EVALSHA per lookup", async () => {
    const first = await commandsDuring(inspector, async () => {
      assert.deepEqual(await auth.authorizeToken(token), { user_id: 71 });
    });
    assert.deepEqual(first, { eval: 1, hget: 1, zscore: 1, time: 1 });

    const next = await commandsDuring(inspector, async () => {
      for (let i = 0; i < 3; i += 1) assert.deepEqual(await auth.authorizeToken(token), { user_id: 71 });
    });
    assert.deepEqual(next, { evalsha: 3, hget: 3, zscore: 3, time: 3 }, "no MULTI, EXEC or EVAL");
  });

  it("sends the script again when Redis has forgotten it (SCRIPT FLUSH)", async () => {
    await inspector.script("FLUSH");
    const calls = await commandsDuring(inspector, async () => {
      assert.deepEqual(await auth.authorizeToken(token), { user_id: 71 });
    });
    // The EVALSHA that Redis answers NOSCRIPT, then the EVAL that runs the script.
    assert.deepEqual(calls, { evalsha: 1, eval: 1, hget: 1, zscore: 1, time: 1 });
  });

  // A script with a shebang and no `no-writes` flag would be refused by a read-only replica.
  it("is answered by a read-only replica", async () => {
    const replica = await RedisServer.start();
    const replicaAdmin = new Redis(replica.url);
    const fromReplica = createAuthenticator({ redis: replica.url, onError: () => {} });
    try {
      await inspector.config("SET", "repl-diskless-sync-delay", "0"); // the default waits 5 s for more replicas
      await replicaAdmin.replicaof("127.0.0.1", redis.port);
      assert.ok(await eventually(async () => (await replicaAdmin.hexists("mySessionStore", token)) === 1, 5000));
      assert.equal(await replicaAdmin.config("GET", "replica-read-only").then(([, value]) => value), "yes");
      assert.deepEqual(await fromReplica.authorizeToken(token), { user_id: 71 });
      assert.deepEqual(await fromReplica.authorizeToken(token), { user_id: 71 }); // EVALSHA this time
    } finally {
      await fromReplica.close();
      replicaAdmin.disconnect();
      await replica.cleanup();
    }
  });
});

describe("the deadline of each lookup", () => {
  const TIMEOUT_MS = 300;
  let redis;
  let gem;
  let token;

  before(async () => {
    redis = await RedisServer.start();
    gem = Gem.start(redis.url);
    token = await gem.publish(`{ "user_id" => 72 }`);
  });

  after(async () => {
    await gem?.close();
    await redis?.cleanup();
  });

  // A client passed in is never replaced on a timeout, so every lookup runs to its own deadline.
  it("gives every lookup its whole commandTimeout, and counts it pending until Redis answers", async () => {
    const client = new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    const errors = [];
    const auth = createAuthenticator({
      redis: client, commandTimeout: TIMEOUT_MS, maxPendingLookups: 2, onError: (error) => errors.push(error),
    });
    try {
      assert.deepEqual(await auth.authorizeToken(token), { user_id: 72 });
      await delay(TIMEOUT_MS * 2); // the store sat idle for longer than a deadline
      redis.pause();
      let paused = true;
      try {
        const first = timed(auth.authorizeToken(token));
        await delay(TIMEOUT_MS / 2);
        const second = timed(auth.authorizeToken(token));
        const third = await timed(auth.authorizeToken(token));
        assert.equal(third.value, null);
        assert.ok(third.ms < 50, `the third lookup was refused at once, not after ${third.ms} ms`);

        for (const { value, ms } of [await first, await second]) {
          assert.equal(value, null);
          assert.ok(ms >= TIMEOUT_MS - 5 && ms < TIMEOUT_MS + 150, `refused after ${ms} ms`);
        }
        assert.equal(errors.filter((e) => e.message === `Redis did not answer within ${TIMEOUT_MS} ms`).length, 2);

        // Past their deadlines, both are still waiting for Redis: there is no room for a third.
        const meanwhile = await timed(auth.authorizeToken(token));
        assert.equal(meanwhile.value, null);
        assert.ok(meanwhile.ms < 50, `${meanwhile.ms} ms`);

        redis.resume();
        paused = false;
        // Redis answers the two late lookups (their answers are dropped), which makes room again.
        assert.ok(await eventually(async () => (await auth.authorizeToken(token))?.user_id === 72, 2000));
      } finally {
        if (paused) redis.resume();
      }
    } finally {
      await auth.close();
      client.disconnect();
    }
  });

  it("sends the lookups made while connecting once the connection is ready", async () => {
    const client = new Redis(redis.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    const auth = createAuthenticator({ redis: client, commandTimeout: TIMEOUT_MS, onError: () => {} });
    try {
      assert.equal(client.status, "wait");
      const sessions = await Promise.all(Array.from({ length: 5 }, () => auth.authorizeToken(token)));
      assert.deepEqual(sessions, Array(5).fill({ user_id: 72 }));
    } finally {
      await auth.close();
      client.disconnect();
    }
  });
});
