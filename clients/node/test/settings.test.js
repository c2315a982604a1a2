"use strict";

// The settings in force, as a program or a log line sees them: secrets never printed.

const assert = require("node:assert/strict");
const util = require("node:util");
const { after, before, describe, it } = require("node:test");
const Redis = require("ioredis");
const { createAuthenticator } = require("..");
const { RedisServer } = require("./support/redis-server");
const { cookieFor } = require("./support/harness");

const PASSWORD = "s3cret@Pa55word"; // a raw "@" in a URL's password must not split it
const TOKEN = "0123456789abcdef0123456789abcdef";

// Everything a log line could show of a value.
function printed(value) {
  const lines = [];
  const original = console.log;
  console.log = (...args) => lines.push(util.format(...args));
  try {
    console.log(value);
    console.log("%o", value);
  } finally {
    console.log = original;
  }
  return [util.inspect(value), util.inspect(value, { depth: Infinity, showHidden: true }), JSON.stringify(value),
    ...lines].join("\n");
}

describe("the Redis password", () => {
  let server;
  let admin;

  before(async () => {
    server = await RedisServer.start();
    admin = new Redis(server.url);
    await admin.hset("mySessionStore", TOKEN, '{"user_id":81}');
    await admin.config("SET", "requirepass", PASSWORD);
  });

  after(async () => {
    admin?.disconnect();
    await server?.cleanup();
  });

  const withPassword = (port) => ({
    "in the URL": { redis: `redis://:${PASSWORD}@127.0.0.1:${port}/0` },
    "in the URL's query": { redis: `redis://127.0.0.1:${port}/0?password=${PASSWORD}` },
    "in redisOptions": { redis: `redis://127.0.0.1:${port}/0`, redisOptions: { password: PASSWORD } },
  });

  for (const name of Object.keys(withPassword(0))) {
    it(`is used but never printed when given ${name}`, async () => {
      const options = withPassword(server.port)[name];
      const auth = createAuthenticator({ ...options, onError: () => {} });
      try {
        assert.deepEqual(await auth.authorize(cookieFor(TOKEN)), { user_id: 81 }, "it authenticates with it");

        for (const value of [auth, auth.settings]) {
          const text = printed(value);
          assert.ok(!text.includes("s3cret") && !text.includes("Pa55word"), text);
          assert.match(text, /REDACTED/);
          assert.match(text, new RegExp(`127\\.0\\.0\\.1:${server.port}`), "the rest is still shown");
        }
        assert.ok(JSON.stringify(auth.settings).includes('"storeKey":"mySessionStore"'));
        assert.equal(auth.settings.redis, options.redis, "the settings themselves are intact");
        assert.deepEqual(auth.settings.redisOptions, options.redisOptions);
      } finally {
        await auth.close();
      }
    });
  }

  it("is not repeated by the error for a URL ioredis cannot read", () => {
    let error;
    try {
      createAuthenticator({ redis: `redis://:${PASSWORD}@127.0.0.1:port/0`, onError: () => {} });
    } catch (thrown) {
      error = thrown;
    }
    assert.ok(error instanceof TypeError, String(error));
    const text = printed(error);
    assert.ok(!text.includes("s3cret") && !text.includes("Pa55word"), text);
  });

  it("is never printed from cluster or sentinels URLs", async () => {
    const nowhere = `127.0.0.1:${server.port + 1}`; // nothing is asked: only the settings are printed
    for (const options of [
      { layout: "cluster", cluster: [`redis://:${PASSWORD}@${nowhere}`, `rediss://u:${PASSWORD}@${nowhere}`] },
      { layout: "cluster", cluster: [`redis://:${PASSWORD}@${nowhere}`, `redis://:${PASSWORD}@${nowhere}`] },
      { sentinels: [`redis://:${PASSWORD}@${nowhere}`], name: "mymaster", redis: `redis://:${PASSWORD}@${nowhere}/0` },
    ]) {
      let auth;
      try {
        auth = createAuthenticator({ ...options, connectTimeout: 100, onError: () => {} });
      } catch (error) {
        assert.match(error.message, /every URL in cluster must carry the same scheme, user and password/);
        assert.ok(!printed(error).includes("Pa55word"));
        continue;
      }
      try {
        for (const value of [auth, auth.settings]) {
          const text = printed(value);
          assert.ok(!text.includes("s3cret") && !text.includes("Pa55word"), text);
          assert.match(text, new RegExp(`REDACTED@${nowhere.replace(/\./g, "\\.")}`));
        }
      } finally {
        await auth.close();
      }
    }
  });

  it("is never printed from an ioredis client passed as redis, nor from its tls key", async () => {
    const client = new Redis({ port: server.port, password: PASSWORD, lazyConnect: true });
    const auth = createAuthenticator({
      redis: client,
      redisOptions: { password: PASSWORD, tls: { key: PASSWORD, passphrase: PASSWORD } },
      onError: () => {},
    });
    try {
      for (const value of [auth, auth.settings]) {
        const text = printed(value);
        assert.ok(!text.includes(PASSWORD), text);
      }
    } finally {
      await auth.close();
      client.disconnect();
    }
  });
});
