"use strict";

// The cluster layout (contract/cluster_layout.json) on one redis-server: entries written with raw
// Redis commands exactly as the contract says, found from the cookie alone, gone with their own
// TTL, and revoked by a PUBLISH of their field.

const assert = require("node:assert/strict");
const http = require("node:http");
const { after, before, describe, it } = require("node:test");
const Redis = require("ioredis");
const { WebSocketServer } = require("ws");
const {
  createAuthenticator, CLUSTER_TOKEN_PATTERN, TOKEN_PATTERN, isToken, fieldFor, LookupError,
} = require("..");
const { entryKey } = require("../lib/layouts/cluster");
const { RedisServer, delay, eventually } = require("./support/redis-server");
const { contract } = require("./support/contract");
const { startServer, connect, disconnection, whoami, cookieFor, commandCalls } = require("./support/harness");
const { listen, get, openWebSocket, closing } = require("./support/http");
const { tagFor, clusterToken, keysFor, publishEntry, revokeEntry, keySlot } = require("./support/cluster-layout");

const layout = contract("cluster_layout");
const wire = contract("wire");

describe("the cluster layout's contract", () => {
  it("has the contract's token shape, and tells the layouts' tokens apart", () => {
    assert.equal(CLUSTER_TOKEN_PATTERN.source, layout.token_pattern);
    for (const { token } of layout.examples) {
      assert.equal(token.length, layout.token_length);
      assert.ok(isToken(token, "cluster"));
      assert.ok(!isToken(token) && !TOKEN_PATTERN.test(token), "not a token of the hash layout");
    }
    assert.ok(!isToken("0123456789abcdef0123456789abcdef", "cluster"), "a hash-layout token is not one");
    for (const bad of ["73475CB4.0123456789abcdef0123456789abcdef", "73475cb4-0123456789abcdef0123456789abcdef",
      "73475cb4.0123456789abcdef0123456789abcde", "{73475cb}.0123456789abcdef0123456789abcdef"]) {
      assert.ok(!isToken(bad, "cluster"), bad);
    }
  });

  for (const example of layout.examples) {
    it(`maps ${example.token} (hash_tokens: ${example.hash_tokens}) to the contract's key and slot`, () => {
      const names = { storeKey: wire.store_key, hashTokens: example.hash_tokens };
      assert.equal(tagFor(example.user_id), example.tag, "the tag is SHA-256(user_id)'s first 8 hex characters");
      assert.equal(example.token.slice(0, 8), example.tag);
      assert.equal(fieldFor(example.token, example.hash_tokens), example.field);
      assert.equal(entryKey(example.token, names), example.entry_key);
      assert.equal(keysFor(example.token, names).users, example.user_entries_key);
      assert.equal(keySlot(example.entry_key), example.slot);
      assert.equal(keySlot(example.user_entries_key), example.slot, "the entry and its user index share a slot");
    });
  }
});

describe("the cluster layout on one redis-server", () => {
  let server;
  let redis;
  let plain;
  let hashing;

  before(async () => {
    server = await RedisServer.start();
    redis = new Redis(server.url);
    plain = await startServer({ redis: server.url, layout: "cluster" });
    hashing = await startServer({ redis: server.url, layout: "cluster", hashTokens: true });
  });

  after(async () => {
    await plain?.close();
    await hashing?.close();
    redis?.disconnect();
    await server?.cleanup();
  });

  const companion = (hashTokens) => (hashTokens ? hashing : plain);

  it("finds each contract example from the cookie alone, written as the contract says", async () => {
    for (const example of layout.examples) {
      const json = JSON.stringify({ user_id: example.user_id });
      await publishEntry(redis, example.token, json, { userId: example.user_id, hashTokens: example.hash_tokens });
      assert.equal(await redis.get(example.entry_key), json, "the entry is a string under the contract's key");
      assert.match(await redis.hget(example.user_entries_key, example.field), /^\d+ /);

      const { auth } = companion(example.hash_tokens);
      assert.deepEqual(await auth.authorize(cookieFor(example.token)), { user_id: example.user_id }, example.token);
      assert.equal(await companion(!example.hash_tokens).auth.authorizeToken(example.token), null,
        "a companion with the other hashTokens looks under another key");
    }
  });

  it("looks up with one EVALSHA of one declared key, and nothing else", async () => {
    const token = clusterToken(61);
    await publishEntry(redis, token, '{"user_id":61}', { userId: 61 });
    await plain.auth.authorizeToken(token); // the first lookup on the connection loads the script
    const before = await commandCalls(redis);
    for (let i = 0; i < 3; i += 1) assert.deepEqual(await plain.auth.authorizeToken(token), { user_id: 61 });
    const after = await commandCalls(redis);
    const ran = Object.fromEntries(Object.entries(after)
      .map(([name, calls]) => [name, calls - (before[name] ?? 0)]).filter(([, calls]) => calls > 0));
    assert.deepEqual(ran, { evalsha: 3, get: 3, pttl: 3 });
  });

  it("refuses a hash-layout token without asking Redis, and a hash layout refuses a cluster token", async () => {
    const hashToken = "0123456789abcdef0123456789abcdef";
    await redis.hset(wire.store_key, hashToken, '{"user_id":62}');
    const token = clusterToken(62);
    await publishEntry(redis, token, '{"user_id":62}', { userId: 62 });
    const hashLayout = createAuthenticator({ redis: server.url, onError: () => {} });
    try {
      const before = await commandCalls(redis);
      assert.equal(await plain.auth.authorize(cookieFor(hashToken)), null);
      assert.equal(await hashLayout.authorize(cookieFor(token)), null);
      await assert.rejects(connect(plain.url, { token: hashToken }), { message: "unauthorized" });
      assert.equal((await commandCalls(redis)).evalsha ?? 0, before.evalsha ?? 0, "no lookup was sent");

      assert.deepEqual(await hashLayout.authorize(cookieFor(hashToken)), { user_id: 62 });
      assert.deepEqual(await plain.auth.authorize(cookieFor(token)), { user_id: 62 });
    } finally {
      await hashLayout.close();
    }
  });

  it("accepts a Socket.IO client that sends the token itself", async () => {
    const token = clusterToken(63);
    await publishEntry(redis, token, '{"user_id":63}', { userId: 63 });
    const socket = await connect(plain.url, { token });
    assert.deepEqual(await whoami(socket), { user_id: 63 });
    socket.close();
  });

  it("refuses an entry whose own TTL has run out (Redis removed it)", async () => {
    const token = clusterToken(64);
    await publishEntry(redis, token, '{"user_id":64}', { userId: 64, ttlMs: 150 });
    assert.deepEqual(await plain.auth.authorizeToken(token), { user_id: 64 });
    await delay(200);
    assert.equal(await plain.auth.authorizeToken(token), null);
  });

  it("accepts an entry without a TTL: it never expires", async () => {
    const token = clusterToken(65);
    await publishEntry(redis, token, '{"user_id":65}', { userId: 65, ttlMs: null });
    assert.equal(await redis.pttl(keysFor(token).entry), -1);
    assert.deepEqual(await plain.auth.authorizeToken(token), { user_id: 65 });
  });

  it("disconnects a live socket when its entry's TTL runs out, and not before", async () => {
    const token = clusterToken(66);
    await publishEntry(redis, token, '{"user_id":66}', { userId: 66, ttlMs: 600 });
    const socket = await connect(plain.url, { cookie: cookieFor(token) });
    const started = performance.now();
    const { reason } = await disconnection(socket, 2000);
    const afterMs = performance.now() - started;
    assert.equal(reason, "io server disconnect");
    assert.ok(afterMs > 400 && afterMs < 1000, `${afterMs} ms`);
    await eventually(() => plain.auth.tracked.sockets === 0);
  });

  it("keeps a socket whose entry's TTL was extended (the gem's touch), until the new expiry", async () => {
    const token = clusterToken(67);
    await publishEntry(redis, token, '{"user_id":67}', { userId: 67, ttlMs: 400 });
    const socket = await connect(plain.url, { cookie: cookieFor(token) });
    await redis.pexpire(keysFor(token).entry, 1200);
    const { afterMs } = await disconnection(socket, 2500);
    assert.ok(afterMs > 900, `disconnected at the new expiry, ${afterMs} ms in`);
  });

  for (const hashTokens of [false, true]) {
    it(`disconnects a live socket when its field is published on the revocation channel (hashTokens: ${hashTokens})`, async () => {
      const token = clusterToken(68);
      await publishEntry(redis, token, '{"user_id":68}', { userId: 68, hashTokens });
      const kept = clusterToken(68); // the same user's other session, same tag
      await publishEntry(redis, kept, '{"user_id":68}', { userId: 68, hashTokens });
      const { url, auth } = companion(hashTokens);
      const socket = await connect(url, { cookie: cookieFor(token) });
      const other = await connect(url, { cookie: cookieFor(kept) });
      const disconnected = disconnection(socket, 1000);

      const field = await revokeEntry(redis, token, { hashTokens });
      assert.equal(field, fieldFor(token, hashTokens));

      assert.equal((await disconnected).reason, "io server disconnect");
      assert.ok(other.connected, "the other session stays");
      assert.deepEqual(await whoami(other), { user_id: 68 });
      assert.equal(await auth.authorizeToken(token), null);
      other.close();
    });
  }

  it("refuses a malformed entry and tells onError, without naming the token", async () => {
    const token = clusterToken(69);
    await publishEntry(redis, token, '{"user_id":', { userId: 69 });
    plain.errors.length = 0;
    assert.equal(await plain.auth.authorizeToken(token), null);
    assert.equal(plain.errors.length, 1);
    assert.ok(plain.errors[0] instanceof LookupError && plain.errors[0].reason === "malformed");
    assert.match(plain.errors[0].message, /^the entry under mySessionStore is not valid JSON/);
    assert.ok(!plain.errors[0].message.includes(token.slice(9)));
  });
});

describe("the cluster layout behind Express and ws", () => {
  let server;
  let redis;
  let auth;
  let app;
  let url;

  before(async () => {
    server = await RedisServer.start();
    redis = new Redis(server.url);
    auth = createAuthenticator({ redis: server.url, layout: "cluster", onError: () => {} });
    const guard = auth.ws();
    const wss = new WebSocketServer({ noServer: true });
    app = http.createServer((req, res) => {
      auth.express()(req, res, () => res.end(JSON.stringify(req.session)));
    });
    app.on("upgrade", (req, socket, head) => guard.handleUpgrade(wss, req, socket, head));
    wss.on("connection", (ws, req) => ws.send(JSON.stringify(req.session)));
    url = await listen(app);
  });

  after(async () => {
    app?.closeAllConnections();
    await new Promise((resolve) => (app ? app.close(resolve) : resolve()));
    await auth?.close();
    redis?.disconnect();
    await server?.cleanup();
  });

  it("answers an Express request with the session, and 401 for a hash-layout token", async () => {
    const token = clusterToken(91);
    await publishEntry(redis, token, '{"user_id":91}', { userId: 91 });
    assert.deepEqual((await get(url, { cookie: cookieFor(token) })).body, '{"user_id":91}');
    assert.equal((await get(url, { cookie: cookieFor("0123456789abcdef0123456789abcdef") })).status, 401);
  });

  it("closes a ws connection with 4001 \"session expired\" at its entry's TTL, \"session revoked\" on revocation", async () => {
    const expiring = clusterToken(92);
    await publishEntry(redis, expiring, '{"user_id":92}', { userId: 92, ttlMs: 400 });
    const revoked = clusterToken(92);
    await publishEntry(redis, revoked, '{"user_id":92}', { userId: 92 });
    const first = await openWebSocket(url, { cookie: cookieFor(expiring) });
    const second = await openWebSocket(url, { cookie: cookieFor(revoked) });
    assert.deepEqual(first.greeting, { user_id: 92 });

    assert.deepEqual(await closing(first.ws, 2000).then(({ code, reason }) => ({ code, reason })),
      { code: 4001, reason: "session expired" });
    const closed = closing(second.ws, 1000);
    await revokeEntry(redis, revoked);
    assert.deepEqual(await closed.then(({ code, reason }) => ({ code, reason })), { code: 4001, reason: "session revoked" });
  });
});

describe("the layout and topology options", () => {
  const seeds = ["redis://127.0.0.1:7000", "redis://127.0.0.1:7001"];
  const refusals = [
    [{ layout: "cluster", storeKey: "my{Store}" }, /storeKey may not contain \{ or \} with layout "cluster"/],
    [{ layout: "zset" }, /layout must be "hash" \(the default\) or "cluster"/],
    [{ cluster: seeds }, /a Redis Cluster needs layout: "cluster": the hash layout keeps every entry in one hash/],
    [{ redis: new Redis.Cluster(seeds, { lazyConnect: true }) }, /a Redis Cluster needs layout: "cluster"/],
    [{ layout: "cluster", cluster: seeds, sentinels: ["redis://127.0.0.1:26379"], name: "mymaster" },
      /cluster and sentinels are exclusive/],
    [{ layout: "cluster", cluster: seeds, redis: "redis://127.0.0.1:7000" }, /redis and cluster are exclusive/],
    [{ layout: "cluster", cluster: [] }, /cluster must be a non-empty array of redis:\/\/ URLs/],
    [{ layout: "cluster", cluster: "redis://127.0.0.1:7000" }, /cluster must be a non-empty array/],
    [{ layout: "cluster", cluster: ["redis://127.0.0.1:7000/2"] }, /a Redis Cluster has only database 0/],
    [{ layout: "cluster", cluster: ["http://127.0.0.1:7000"] }, /neither redis:\/\/ nor rediss:\/\//],
    [{ layout: "cluster", cluster: ["redis://127.0.0.1:7000?password=x"] }, /no query/],
    [{ layout: "cluster", cluster: ["redis://:a@127.0.0.1:7000", "redis://127.0.0.1:7001"] },
      /every URL in cluster must carry the same scheme, user and password/],
    [{ layout: "cluster", cluster: seeds, name: "mymaster" }, /name is the master name of a Sentinel setup/],
    [{ sentinels: ["redis://127.0.0.1:26379"] }, /sentinels needs name/],
    [{ name: "mymaster" }, /name is the master name of a Sentinel setup: give sentinels too/],
    [{ sentinels: ["redis://127.0.0.1:26379"], name: "mymaster", redis: new Redis({ lazyConnect: true }) },
      /sentinels opens its own connections/],
  ];

  for (const [options, message] of refusals) {
    it(`refuses ${JSON.stringify(options, (_, value) => (value?.duplicate ? "[an ioredis client]" : value))}`, () => {
      assert.throws(() => createAuthenticator(options), { name: "TypeError", message });
      for (const value of Object.values(options)) value?.disconnect?.();
    });
  }
});
