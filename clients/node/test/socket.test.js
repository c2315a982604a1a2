"use strict";

// End to end: the gem publishes and revokes, a Socket.IO 4 server guarded by the companion
// accepts and disconnects real socket.io-client sockets.

const assert = require("node:assert/strict");
const { after, before, describe, it } = require("node:test");
const { Manager } = require("socket.io-client");
const { RedisServer, delay, eventually } = require("./support/redis-server");
const { Gem } = require("./support/gem");
const { startServer, connect, disconnection, whoami, cookieFor } = require("./support/harness");

describe("Socket.IO authentication with sessions the gem publishes", () => {
  let redis;
  let gem;
  let server;

  before(async () => {
    redis = await RedisServer.start();
    gem = Gem.start(redis.url);
    server = await startServer({ redis: redis.url });
  });

  after(async () => {
    await server?.close();
    await gem?.close();
    await redis?.cleanup();
  });

  it("accepts a socket that sends the cookie, and the socket sees the session the gem stored", async () => {
    const token = await gem.publish(`{ "user_id" => 42, "username" => "ada@example.com" }`, { userId: 42 });
    for (const transports of [["websocket"], ["polling"]]) {
      const socket = await connect(server.url, { cookie: cookieFor(token), transports });
      try {
        assert.deepEqual(await whoami(socket), { user_id: 42, username: "ada@example.com" });
      } finally {
        socket.close();
      }
    }
  });

  it("accepts a non-browser client that sends the token as handshake.auth.token", async () => {
    const token = await gem.publish(`{ "user_id" => 7 }`);
    const socket = await connect(server.url, { token });
    assert.deepEqual(await whoami(socket), { user_id: 7 });
    socket.close();
  });

  it("reads a __Host- prefixed cookie name when it is the configured cookieName", async () => {
    const hosted = await startServer({ redis: redis.url, cookieName: "__Host-session_bridge" });
    try {
      const token = await gem.publish(`{ "user_id" => 10 }`);
      const socket = await connect(hosted.url, { cookie: cookieFor(token, "__Host-session_bridge") });
      assert.deepEqual(await whoami(socket), { user_id: 10 });
      socket.close();
      await assert.rejects(connect(hosted.url, { cookie: cookieFor(token) }), { message: "unauthorized" });
      assert.equal(await hosted.auth.authorize(cookieFor(token, "session_bridge")), null);
    } finally {
      await hosted.close();
    }
  });

  it("after sign-out refuses new connections and disconnects the live socket within a second", async () => {
    const token = await gem.publish(`{ "user_id" => 1 }`, { userId: 1 });
    const socket = await connect(server.url, { cookie: cookieFor(token) });
    const disconnected = disconnection(socket, 1000);

    assert.equal(await gem.eval(`SessionBridge.revoke(${JSON.stringify(token)})`), true);

    const { reason, afterMs } = await disconnected;
    assert.equal(reason, "io server disconnect");
    assert.ok(afterMs < 1000, `${afterMs} ms`);
    await assert.rejects(connect(server.url, { cookie: cookieFor(token) }), { message: "unauthorized" });
  });

  it("revoke_user disconnects every socket of that user and no one else's", async () => {
    const tokens = [];
    for (let i = 0; i < 3; i += 1) tokens.push(await gem.publish(`{ "user_id" => 2 }`, { userId: 2 }));
    const other = await gem.publish(`{ "user_id" => 3 }`, { userId: 3 });
    const sockets = await Promise.all([
      connect(server.url, { cookie: cookieFor(tokens[0]) }),
      connect(server.url, { cookie: cookieFor(tokens[0]), transports: ["polling"] }),
      connect(server.url, { cookie: cookieFor(tokens[1]) }),
      connect(server.url, { token: tokens[2] }),
    ]);
    const bystander = await connect(server.url, { cookie: cookieFor(other) });
    const disconnected = sockets.map((socket) => disconnection(socket, 1000));

    assert.equal(await gem.eval("SessionBridge.revoke_user(2)"), 3);

    for (const { reason } of await Promise.all(disconnected)) assert.equal(reason, "io server disconnect");
    await delay(100);
    assert.equal(bystander.connected, true);
    assert.deepEqual(await whoami(bystander), { user_id: 3 });
    bystander.close();
  });

  it("refuses an entry past its expiry, even before anything removes it", async () => {
    await gem.configure({ ttl: 0.2 });
    try {
      const token = await gem.publish(`{ "user_id" => 4 }`);
      (await connect(server.url, { cookie: cookieFor(token) })).close();
      await delay(300);

      await assert.rejects(connect(server.url, { cookie: cookieFor(token) }), { message: "unauthorized" });
      assert.equal(await server.auth.authorize(cookieFor(token)), null);
    } finally {
      await gem.configure({ ttl: "24 * 60 * 60" });
    }
  });

  it("disconnects a live socket when its entry expires, without waiting for a sweep", async () => {
    await gem.configure({ ttl: 0.5 });
    try {
      const token = await gem.publish(`{ "user_id" => 5 }`);
      const socket = await connect(server.url, { cookie: cookieFor(token) });

      const { afterMs } = await disconnection(socket, 2000);
      assert.ok(afterMs < 1500, `${afterMs} ms`);
    } finally {
      await gem.configure({ ttl: "24 * 60 * 60" });
    }
  });

  it("keeps a socket whose entry was extended with touch (sliding expiry)", async () => {
    await gem.configure({ ttl: 0.6 });
    try {
      const token = await gem.publish(`{ "user_id" => 6 }`);
      const socket = await connect(server.url, { cookie: cookieFor(token) });
      await delay(300);
      assert.equal(await gem.eval(`SessionBridge.touch(${JSON.stringify(token)})`), true);
      await delay(450);

      assert.equal(socket.connected, true);
      await disconnection(socket, 1500);
    } finally {
      await gem.configure({ ttl: "24 * 60 * 60" });
    }
  });

  it("forgets a socket once it disconnects", async () => {
    const token = await gem.publish(`{ "user_id" => 8 }`);
    const before = server.auth.tracked;
    const sockets = await Promise.all([
      connect(server.url, { cookie: cookieFor(token) }),
      connect(server.url, { cookie: cookieFor(token), transports: ["polling"] }),
    ]);
    assert.deepEqual(server.auth.tracked, { fields: before.fields + 1, sockets: before.sockets + 2 });

    for (const socket of sockets) socket.close();
    await delay(200);

    assert.deepEqual(server.auth.tracked, before);
  });

  it("adds no listener per namespace connect on a long-lived connection", async () => {
    const token = await gem.publish(`{ "user_id" => 9 }`);
    server.io.of(/^\/room-\d+$/).use(server.auth.socketIo());
    const warnings = [];
    const onWarning = (warning) => warnings.push(warning);
    process.on("warning", onWarning);
    const manager = new Manager(server.url, {
      transports: ["websocket"], extraHeaders: { cookie: cookieFor(token) }, reconnection: false, autoConnect: false,
    });
    try {
      const anchor = manager.socket("/").connect(); // keeps the one Engine.IO connection open throughout
      await new Promise((resolve, reject) => anchor.once("connect", resolve).once("connect_error", reject));
      const [conn] = Object.values(server.io.engine.clients);
      const baseline = conn.listenerCount("close");

      for (let i = 0; i < 300; i += 1) {
        const room = manager.socket(`/room-${i}`).connect();
        await new Promise((resolve, reject) => room.once("connect", resolve).once("connect_error", reject));
        room.disconnect();
      }
      assert.ok(await eventually(() => server.auth.tracked.sockets === 1), JSON.stringify(server.auth.tracked));

      assert.equal(Object.keys(server.io.engine.clients).length, 1, "one connection all along");
      const listeners = conn.listenerCount("close");
      assert.ok(listeners <= baseline, `${listeners} close listeners, ${baseline} before`);
      assert.deepEqual(warnings.filter((w) => w.name === "MaxListenersExceededWarning"), []);
    } finally {
      process.off("warning", onWarning);
      manager.engine?.close();
    }
  });
});
