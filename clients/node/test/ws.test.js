"use strict";

// Real ws servers guarded by auth.ws(), both ways ws offers (verifyClient, and noServer with
// the HTTP server's "upgrade" event), real ws clients, sessions published and revoked through
// the gem.

const assert = require("node:assert/strict");
const http = require("node:http");
const { after, before, describe, it } = require("node:test");
const Redis = require("ioredis");
const { WebSocketServer } = require("ws");
const { createAuthenticator } = require("..");
const { RedisServer, delay, eventually } = require("./support/redis-server");
const { Gem } = require("./support/gem");
const { cookieFor, commandCalls } = require("./support/harness");
const { listen, openWebSocket, closing } = require("./support/http");

const WELL_FORMED = "0123456789abcdef0123456789abcdef";
const JSON_TYPE = "application/json; charset=utf-8";
const UNAUTHORIZED = { status: 401, type: JSON_TYPE, body: '{"error":"unauthorized"}' };

// The two ways to put auth.ws() in front of a WebSocketServer.
const MODES = {
  verifyClient(server, guard) {
    return guard.attach(new WebSocketServer({ server, verifyClient: guard.verifyClient }));
  },
  handleUpgrade(server, guard) {
    const wss = new WebSocketServer({ noServer: true });
    server.on("upgrade", (req, socket, head) => guard.handleUpgrade(wss, req, socket, head));
    return wss;
  },
};

// An HTTP server with a ws server whose "connection" handler greets with req.session.
async function startServer(mode, authOptions) {
  const errors = [];
  const auth = createAuthenticator({ onError: (error) => errors.push(error), ...authOptions });
  const server = http.createServer();
  const wss = MODES[mode](server, auth.ws());
  const opened = [];
  wss.on("connection", (ws, req) => {
    opened.push(ws);
    ws.send(JSON.stringify(req.session));
  });
  const url = await listen(server);
  return {
    url,
    auth,
    wss,
    server,
    errors,
    opened,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await auth.close();
    },
  };
}

// Refused, with the HTTP answer; never opened on the server.
async function refusedUpgrade(server, options) {
  const before = server.opened.length;
  const error = await openWebSocket(server.url, options).then(
    ({ ws }) => {
      ws.terminate();
      assert.fail("the upgrade was accepted");
    },
    (refusal) => refusal,
  );
  assert.equal(server.opened.length, before, "no connection opened");
  return { status: error.status, type: error.type, body: error.body };
}

for (const mode of Object.keys(MODES)) {
  describe(`ws (${mode}) with sessions the gem publishes`, () => {
    let redis;
    let inspector;
    let gem;
    let server;

    before(async () => {
      redis = await RedisServer.start();
      inspector = new Redis(redis.url);
      gem = Gem.start(redis.url);
      server = await startServer(mode, { redis: redis.url, origins: ["https://app.example.com"] });
    });

    after(async () => {
      await server?.close();
      inspector?.disconnect();
      await gem?.close();
      await redis?.cleanup();
    });

    it("opens an upgrade that sends the cookie; the connection handler sees req.session", async () => {
      const token = await gem.publish(`{ "user_id" => 42, "username" => "ada@example.com" }`, { userId: 42 });
      for (const origin of ["https://app.example.com", undefined]) {
        const { ws, greeting } = await openWebSocket(server.url, { cookie: cookieFor(token), origin });
        assert.deepEqual(greeting, { user_id: 42, username: "ada@example.com" });
        ws.close();
      }
    });

    it("answers 401 and never opens: no cookie, bad origin, cookie twice, malformed (no Redis command)", async () => {
      const token = await gem.publish(`{ "user_id" => 43 }`);
      const before = await commandCalls(inspector);
      for (const options of [{}, { cookie: "theme=dark" }, { cookie: cookieFor(WELL_FORMED.toUpperCase()) },
        { cookie: cookieFor(token), origin: "https://evil.example" },
        { cookie: cookieFor(token), origin: "null" },
        { cookie: `_validation_token_key=${WELL_FORMED}; _validation_token_key=${token}` }]) {
        assert.deepEqual(await refusedUpgrade(server, options), UNAUTHORIZED, JSON.stringify(options));
      }
      assert.deepEqual(await commandCalls(inspector), before);
    });

    it("answers 401 and never opens after sign-out, or for an unknown token", async () => {
      const token = await gem.publish(`{ "user_id" => 44 }`);
      await gem.eval(`SessionBridge.revoke(${JSON.stringify(token)})`);
      assert.deepEqual(await refusedUpgrade(server, { cookie: cookieFor(token) }), UNAUTHORIZED);
      assert.deepEqual(await refusedUpgrade(server, { cookie: cookieFor(WELL_FORMED) }), UNAUTHORIZED);
    });

    it("closes a live connection with 4001 \"session revoked\" within a second of sign-out", async (t) => {
      const token = await gem.publish(`{ "user_id" => 1 }`, { userId: 1 });
      const { ws } = await openWebSocket(server.url, { cookie: cookieFor(token) });
      const closed = closing(ws, 1000);

      assert.equal(await gem.eval(`SessionBridge.revoke(${JSON.stringify(token)})`), true);

      const { code, reason, afterMs } = await closed;
      t.diagnostic(`closed with ${code} "${reason}" ${Math.round(afterMs)} ms after the revoke call`);
      assert.equal(code, 4001);
      assert.equal(reason, "session revoked");
      assert.ok(afterMs < 1000, `${afterMs} ms`);
    });

    it("cuts off, a second after the revocation, a client that never answers the close frame", async (t) => {
      const token = await gem.publish(`{ "user_id" => 4 }`);
      const { ws } = await openWebSocket(server.url, { cookie: cookieFor(token) });
      const onServer = server.opened.at(-1);
      ws.pause(); // reads nothing more: the close frame stays unanswered
      const closedOnServer = new Promise((resolve) => onServer.once("close", resolve));
      const started = performance.now();

      await gem.eval(`SessionBridge.revoke(${JSON.stringify(token)})`);

      await closedOnServer;
      const afterMs = performance.now() - started;
      t.diagnostic(`the server let go ${Math.round(afterMs)} ms after the revoke call`);
      assert.ok(afterMs >= 900 && afterMs < 1500, `${afterMs} ms`);
      ws.terminate();
    });

    it("revoke_user closes every connection of that user and no one else's", async () => {
      const tokens = [];
      for (let i = 0; i < 2; i += 1) tokens.push(await gem.publish(`{ "user_id" => 2 }`, { userId: 2 }));
      const other = await gem.publish(`{ "user_id" => 3 }`, { userId: 3 });
      const sockets = await Promise.all([tokens[0], tokens[0], tokens[1]]
        .map((token) => openWebSocket(server.url, { cookie: cookieFor(token) })));
      const bystander = (await openWebSocket(server.url, { cookie: cookieFor(other) })).ws;
      const closed = sockets.map(({ ws }) => closing(ws, 1000));

      assert.equal(await gem.eval("SessionBridge.revoke_user(2)"), 2);

      for (const { code, reason } of await Promise.all(closed)) {
        assert.deepEqual([code, reason], [4001, "session revoked"]);
      }
      await delay(100);
      assert.equal(bystander.readyState, bystander.OPEN);
      bystander.close();
    });

    it("closes a live connection with 4001 \"session expired\" when its entry expires", async (t) => {
      await gem.configure({ ttl: 0.5 });
      try {
        const { ws } = await openWebSocket(server.url, { cookie: cookieFor(await gem.publish(`{ "user_id" => 5 }`)) });
        const { code, reason, afterMs } = await closing(ws, 2000);
        t.diagnostic(`closed with ${code} "${reason}" ${Math.round(afterMs)} ms after opening (ttl 500 ms)`);
        assert.deepEqual([code, reason], [4001, "session expired"]);
        assert.ok(afterMs < 1500, `${afterMs} ms`);
      } finally {
        await gem.configure({ ttl: "24 * 60 * 60" });
      }
    });

    it("forgets connections as they close, with no listener left behind after 200 of them", async () => {
      const token = await gem.publish(`{ "user_id" => 9 }`);
      const warnings = [];
      const onWarning = (warning) => warnings.push(warning);
      process.on("warning", onWarning);
      const counts = () => ({
        tracked: server.auth.tracked,
        connection: server.wss.listenerCount("connection"),
        upgrade: server.server.listenerCount("upgrade"),
        clients: server.wss.clients.size,
      });
      try {
        const baseline = counts();
        for (let round = 0; round < 20; round += 1) {
          const batch = await Promise.all(Array.from({ length: 10 }, () =>
            openWebSocket(server.url, { cookie: cookieFor(token) })));
          assert.deepEqual(server.auth.tracked,
            { fields: baseline.tracked.fields + 1, sockets: baseline.tracked.sockets + 10 });
          await Promise.all(batch.map(({ ws }) => {
            const closed = closing(ws, 2000);
            ws.close();
            return closed;
          }));
        }
        assert.ok(await eventually(() => server.auth.tracked.sockets === baseline.tracked.sockets),
          JSON.stringify(server.auth.tracked));
        assert.deepEqual(counts(), baseline);
        assert.deepEqual(warnings.filter((w) => w.name === "MaxListenersExceededWarning"), []);
      } finally {
        process.off("warning", onWarning);
      }
    });
  });
}

describe("ws when Redis fails", () => {
  const TIMEOUT_MS = 300;
  let redis;
  let gem;
  const servers = {};

  before(async () => {
    redis = await RedisServer.start();
    gem = Gem.start(redis.url);
    for (const mode of Object.keys(MODES)) {
      servers[mode] = await startServer(mode, { redis: redis.url, commandTimeout: TIMEOUT_MS });
    }
  });

  after(async () => {
    for (const server of Object.values(servers)) await server.close();
    await gem?.close();
    await redis?.cleanup();
  });

  it("answers 503 within commandTimeout while Redis is stopped, and opens again once it is back", async (t) => {
    const token = await gem.publish(`{ "user_id" => 31 }`);
    await redis.stop();
    try {
      for (const [mode, server] of Object.entries(servers)) {
        const started = performance.now();
        const refusal = await refusedUpgrade(server, { cookie: cookieFor(token) });
        const ms = performance.now() - started;
        t.diagnostic(`${mode}: ${refusal.status} after ${Math.round(ms)} ms`);
        assert.deepEqual(refusal, { status: 503, type: JSON_TYPE, body: '{"error":"unavailable"}' });
        assert.ok(ms < TIMEOUT_MS + 500, `${ms} ms`);
        assert.ok(server.errors.every((e) => !e.message.includes(token)), "errors never name the token");
      }
    } finally {
      await redis.start();
    }
    const fresh = await gem.publish(`{ "user_id" => 32 }`);
    for (const server of Object.values(servers)) {
      const opened = await eventually(
        () => openWebSocket(server.url, { cookie: cookieFor(fresh) }).catch(() => null), 5000);
      assert.deepEqual(opened?.greeting, { user_id: 32 });
      opened.ws.close();
    }
  });
});

describe("ws misconfigured", () => {
  let redis;

  before(async () => {
    redis = await RedisServer.start();
  });

  after(async () => {
    await redis?.cleanup();
  });

  it("verifyClient without attach(wss) refuses every upgrade with 500 and says why", async () => {
    const errors = [];
    const auth = createAuthenticator({ redis: redis.url, onError: (error) => errors.push(error) });
    const server = http.createServer();
    const wss = new WebSocketServer({ server, verifyClient: auth.ws().verifyClient });
    const opened = [];
    wss.on("connection", (ws) => opened.push(ws));
    try {
      const url = await listen(server);
      const refusal = await refusedUpgrade({ url, opened }, { cookie: cookieFor(WELL_FORMED) });
      assert.equal(refusal.status, 500);
      assert.match(errors.map((e) => e.message).join("\n"), /attach\(wss\)/);
    } finally {
      wss.close();
      server.close();
      await auth.close();
    }
  });

  it("refuses bad options when the guard is made", () => {
    const auth = createAuthenticator({ redis: redis.url, onError: () => {} });
    try {
      for (const options of [null, "session", { property: "" }, { optional: true }]) {
        assert.throws(() => auth.ws(options), TypeError, JSON.stringify(options));
      }
    } finally {
      auth.close();
    }
  });
});
