"use strict";

// A real Express 4 app guarded by auth.express(), real HTTP requests, sessions published and
// revoked through the gem.

const assert = require("node:assert/strict");
const http = require("node:http");
const { after, before, describe, it } = require("node:test");
const express = require("express");
const Redis = require("ioredis");
const { createAuthenticator } = require("..");
const { RedisServer, delay } = require("./support/redis-server");
const { Gem } = require("./support/gem");
const { cookieFor, commandCalls } = require("./support/harness");
const { listen, get } = require("./support/http");

const WELL_FORMED = "0123456789abcdef0123456789abcdef";
const JSON_TYPE = "application/json; charset=utf-8";
const UNAUTHORIZED = { status: 401, type: JSON_TYPE, body: { error: "unauthorized" } };

// An Express app with a required route (/me), an optional one (/maybe) and an error handler
// that answers with the error's message.
async function startApp(authOptions, expressOptions = {}) {
  const errors = [];
  const auth = createAuthenticator({ onError: (error) => errors.push(error), ...authOptions });
  const app = express();
  app.get("/me", auth.express(expressOptions), (req, res) => res.json(req[expressOptions.property ?? "session"]));
  app.get("/maybe", auth.express({ ...expressOptions, optional: true }), (req, res) => {
    res.json({ session: req[expressOptions.property ?? "session"] ?? null });
  });
  app.use((error, req, res, next) => res.status(500).json({ error: error.message }));
  const server = http.createServer(app);
  const url = await listen(server);
  return {
    url,
    auth,
    errors,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await auth.close();
    },
  };
}

describe("Express middleware with sessions the gem publishes", () => {
  let redis;
  let inspector;
  let gem;
  let app;

  before(async () => {
    redis = await RedisServer.start();
    inspector = new Redis(redis.url);
    gem = Gem.start(redis.url);
    app = await startApp({ redis: redis.url });
  });

  after(async () => {
    await app?.close();
    inspector?.disconnect();
    await gem?.close();
    await redis?.cleanup();
  });

  async function assertNoRedisCommand(action) {
    const before = await commandCalls(inspector);
    await action();
    assert.deepEqual(await commandCalls(inspector), before);
  }

  it("sets req.session to the session the gem stored", async () => {
    const token = await gem.publish(`{ "user_id" => 42, "username" => "ada@example.com" }`, { userId: 42 });
    const { status, body } = await get(`${app.url}/me`, { cookie: cookieFor(token) });
    assert.equal(status, 200);
    assert.deepEqual(body, { user_id: 42, username: "ada@example.com" });
  });

  it("answers 401 without asking Redis: no cookie, a malformed one, the cookie twice", async () => {
    const token = await gem.publish(`{ "user_id" => 43 }`);
    await assertNoRedisCommand(async () => {
      for (const cookie of [undefined, "", "theme=dark", cookieFor(WELL_FORMED.toUpperCase()), cookieFor(`${token}0`),
        `_validation_token_key=${WELL_FORMED}; _validation_token_key=${token}`]) {
        assert.deepEqual(await get(`${app.url}/me`, { cookie }), UNAUTHORIZED, cookie);
      }
    });
  });

  it("answers 401 after sign-out (the gem's revoke) and for an unknown token", async () => {
    const token = await gem.publish(`{ "user_id" => 44 }`, { userId: 44 });
    assert.equal((await get(`${app.url}/me`, { cookie: cookieFor(token) })).status, 200);
    assert.equal(await gem.eval(`SessionBridge.revoke(${JSON.stringify(token)})`), true);
    assert.deepEqual(await get(`${app.url}/me`, { cookie: cookieFor(token) }), UNAUTHORIZED);
    assert.deepEqual(await get(`${app.url}/me`, { cookie: cookieFor(WELL_FORMED) }), UNAUTHORIZED);
  });

  it("answers 401 once the entry has expired, before anything removes it", async () => {
    await gem.configure({ ttl: 0.2 });
    try {
      const token = await gem.publish(`{ "user_id" => 45 }`);
      assert.equal((await get(`${app.url}/me`, { cookie: cookieFor(token) })).status, 200);
      await delay(300);
      assert.deepEqual(await get(`${app.url}/me`, { cookie: cookieFor(token) }), UNAUTHORIZED);
    } finally {
      await gem.configure({ ttl: "24 * 60 * 60" });
    }
  });

  it("optional: lets anonymous requests and dead cookies through without a session", async () => {
    const live = await gem.publish(`{ "user_id" => 46 }`);
    const revoked = await gem.publish(`{ "user_id" => 47 }`);
    await gem.eval(`SessionBridge.revoke(${JSON.stringify(revoked)})`);
    assert.deepEqual((await get(`${app.url}/maybe`, { cookie: cookieFor(live) })).body, { session: { user_id: 46 } });
    for (const cookie of [undefined, "theme=dark", cookieFor(revoked), cookieFor(WELL_FORMED),
      `_validation_token_key=${WELL_FORMED}; _validation_token_key=${live}`]) {
      assert.deepEqual(await get(`${app.url}/maybe`, { cookie }), {
        status: 200, type: JSON_TYPE, body: { session: null },
      }, cookie);
    }
  });

  it("with origins: a listed or missing Origin passes, any other is answered 401 (optional: anonymous)", async () => {
    const guarded = await startApp({ redis: redis.url, origins: ["https://app.example.com"] });
    try {
      const cookie = cookieFor(await gem.publish(`{ "user_id" => 48 }`));
      assert.deepEqual((await get(`${guarded.url}/me`, { cookie, origin: "https://app.example.com" })).body,
        { user_id: 48 });
      assert.deepEqual((await get(`${guarded.url}/me`, { cookie })).body, { user_id: 48 });
      await assertNoRedisCommand(async () => {
        for (const origin of ["https://evil.example", "null", "http://app.example.com"]) {
          assert.deepEqual(await get(`${guarded.url}/me`, { cookie, origin }), UNAUTHORIZED, origin);
          assert.deepEqual((await get(`${guarded.url}/maybe`, { cookie, origin })).body, { session: null }, origin);
        }
      });
    } finally {
      await guarded.close();
    }
  });

  it("never overwrites a req.session that another middleware set, and can use another property", async () => {
    const cookie = cookieFor(await gem.publish(`{ "user_id" => 49 }`));
    const auth = createAuthenticator({ redis: redis.url, onError: () => {} });
    const appWithSession = express();
    appWithSession.use((req, res, next) => { // what express-session does
      req.session = { cookie: {} };
      next();
    });
    appWithSession.get("/me", auth.express(), (req, res) => res.json(req.session));
    appWithSession.get("/bridge", auth.express({ property: "sessionBridge" }), (req, res) => {
      res.json({ session: req.session, sessionBridge: req.sessionBridge });
    });
    appWithSession.use((error, req, res, next) => res.status(500).json({ error: error.message }));
    const server = http.createServer(appWithSession);
    try {
      const url = await listen(server);
      const collision = await get(`${url}/me`, { cookie });
      assert.equal(collision.status, 500);
      assert.match(collision.body.error, /req\.session is already set .*property/);
      assert.deepEqual((await get(`${url}/bridge`, { cookie })).body,
        { session: { cookie: {} }, sessionBridge: { user_id: 49 } });
    } finally {
      server.closeAllConnections();
      server.close();
      await auth.close();
    }
  });

  it("runs twice on one request (app and router) without mistaking itself for another middleware", async () => {
    const cookie = cookieFor(await gem.publish(`{ "user_id" => 50 }`));
    const auth = createAuthenticator({ redis: redis.url, onError: () => {} });
    const twice = express();
    twice.use(auth.express());
    const router = express.Router();
    router.use(auth.express());
    router.get("/me", (req, res) => res.json(req.session));
    twice.use("/api", router);
    const server = http.createServer(twice);
    try {
      const url = await listen(server);
      assert.deepEqual((await get(`${url}/api/me`, { cookie })).body, { user_id: 50 });
    } finally {
      server.closeAllConnections();
      server.close();
      await auth.close();
    }
  });

  it("refuses bad options when the middleware is made", () => {
    for (const options of [null, 42, { optional: "yes" }, { property: "" }, { property: 42 },
      { property: "constructor" }, { optinal: true }]) {
      assert.throws(() => app.auth.express(options), TypeError, JSON.stringify(options));
    }
  });
});

describe("Express middleware when Redis fails", () => {
  const TIMEOUT_MS = 300;
  let redis;
  let gem;
  let app;

  before(async () => {
    redis = await RedisServer.start();
    gem = Gem.start(redis.url);
    app = await startApp({ redis: redis.url, commandTimeout: TIMEOUT_MS });
  });

  after(async () => {
    await app?.close();
    await gem?.close();
    await redis?.cleanup();
  });

  it("answers 503 within commandTimeout while Redis is stopped (optional too), and recovers", async (t) => {
    const token = await gem.publish(`{ "user_id" => 51 }`);
    await redis.stop();
    try {
      for (const path of ["/me", "/maybe"]) {
        const started = performance.now();
        const response = await get(`${app.url}${path}`, { cookie: cookieFor(token) });
        const ms = performance.now() - started;
        t.diagnostic(`${path}: ${response.status} after ${Math.round(ms)} ms`);
        assert.deepEqual(response, { status: 503, type: JSON_TYPE, body: { error: "unavailable" } });
        assert.ok(ms < TIMEOUT_MS + 500, `${ms} ms`);
      }
      assert.deepEqual((await get(`${app.url}/maybe`)).body, { session: null }, "no cookie: Redis is not asked");
      assert.deepEqual(await get(`${app.url}/me`), UNAUTHORIZED);
      assert.ok(app.errors.some((e) => /Redis (was not connected|did not answer|lookup)/.test(e.message)));
      assert.ok(app.errors.every((e) => !e.message.includes(token)), "errors never name the token");
    } finally {
      await redis.start();
    }
    const fresh = await gem.publish(`{ "user_id" => 52 }`);
    let response;
    for (let attempt = 0; attempt < 100 && response?.status !== 200; attempt += 1) {
      if (attempt > 0) await delay(50);
      response = await get(`${app.url}/me`, { cookie: cookieFor(fresh) });
    }
    assert.deepEqual(response.body, { user_id: 52 });
  });
});
