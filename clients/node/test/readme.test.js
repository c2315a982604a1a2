"use strict";

// The README's server.js, browser, app.js (Express) and ws.js snippets, run as a user would copy
// them.

const assert = require("node:assert/strict");
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");
const { after, before, describe, it } = require("node:test");
const Redis = require("ioredis");
const { io: connectClient } = require("socket.io-client");
const { RedisServer, delay, eventually } = require("./support/redis-server");
const { startServer, cookieFor } = require("./support/harness");
const { get, openWebSocket, closing } = require("./support/http");
const { snippetAfter } = require("./support/readme");

const PACKAGE = path.resolve(__dirname, "..");
const TOKEN = "00112233445566778899aabbccddeeff";
const SERVER_SNIPPET = "A complete server (`server.js`):";
const BROWSER_SNIPPET = "In the browser, on a page of the Rails app";
const EXPRESS_SNIPPET = "Express (or Connect) routes, with `app.js`:";
const WS_SNIPPET = "A `ws` server, `ws.js`";

// Runs the README's snippet after `marker` as `file` from `dir` (whose node_modules must hold
// session-bridge and what the snippet requires); resolves once it listens, with its port and a
// promise of its exit.
async function runServerSnippet(dir, env, marker = SERVER_SNIPPET, file = "server.js") {
  fs.writeFileSync(path.join(dir, file), snippetAfter(marker));
  const child = spawn(process.execPath, [file], {
    cwd: dir, env: { ...process.env, PORT: "0", ...env }, stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  let output = "";
  const port = await new Promise((resolve, reject) => {
    child.stdout.on("data", (chunk) => {
      output += chunk;
      const match = /listening on (\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    exited.then(() => reject(new Error(`${file} exited before listening: ${output}`)));
    setTimeout(() => reject(new Error(`${file} did not say "listening on <port>": ${output}`)), 5000).unref();
  }).catch((error) => {
    child.kill("SIGKILL");
    throw error;
  });
  return { child, port, exited };
}

// Resolves to the "hello" a socket.io-client receives from the README server, or rejects.
function hello(port, cookie, transports = ["websocket"]) {
  const socket = connectClient(`http://127.0.0.1:${port}`, {
    transports, extraHeaders: { cookie }, reconnection: false, forceNew: true,
  });
  return new Promise((resolve, reject) => {
    socket.once("hello", (session) => resolve({ socket, session }));
    socket.once("connect_error", (error) => {
      socket.close();
      reject(error);
    });
  });
}

describe("the README's server.js, app.js and ws.js", () => {
  let redis;
  let dir;

  before(async () => {
    redis = await RedisServer.start();
    const admin = new Redis(redis.url);
    await admin.hset("mySessionStore", TOKEN, '{"user_id":61}');
    admin.disconnect();
    // As installed: session-bridge and socket.io in the project's node_modules.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "session-bridge-readme-"));
    fs.mkdirSync(path.join(dir, "node_modules"));
    fs.symlinkSync(PACKAGE, path.join(dir, "node_modules", "session-bridge"), "dir");
    for (const name of ["socket.io", "express", "ws"]) {
      fs.symlinkSync(path.join(PACKAGE, "node_modules", name), path.join(dir, "node_modules", name), "dir");
    }
  });

  after(async () => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await redis?.cleanup();
  });

  it("exits on SIGTERM within 2 s, with sockets connected and an HTTP request half sent", async (t) => {
    const server = await runServerSnippet(dir, { REDIS_URL: redis.url });
    const { socket, session } = await hello(server.port, cookieFor(TOKEN));
    assert.deepEqual(session, { user_id: 61 });
    const polling = (await hello(server.port, cookieFor(TOKEN), ["polling"])).socket;
    const halfSent = net.connect({ host: "127.0.0.1", port: server.port });
    halfSent.on("error", () => {});
    await new Promise((resolve) => halfSent.once("connect", resolve));
    halfSent.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"); // no blank line: the request never ends
    await delay(100);

    const started = performance.now();
    server.child.kill("SIGTERM");
    const exit = await Promise.race([server.exited, delay(2000).then(() => null)]);
    const ms = performance.now() - started;
    socket.close();
    polling.close();
    halfSent.destroy();
    if (!exit) server.child.kill("SIGKILL");

    assert.ok(exit, `still running ${Math.round(ms)} ms after SIGTERM`);
    t.diagnostic(`exited ${Math.round(ms)} ms after SIGTERM`);
    assert.deepEqual(exit, { code: 0, signal: null });
  });

  // Runs the snippet, hands its URL to `check`, then stops it.
  async function withSnippet(marker, file, check) {
    const server = await runServerSnippet(dir, { REDIS_URL: redis.url }, marker, file);
    try {
      await check(`http://127.0.0.1:${server.port}`);
    } finally {
      server.child.kill("SIGKILL");
      await server.exited;
    }
  }

  it("app.js answers /api/me with the session or 401, and / to anyone", async () => {
    await withSnippet(EXPRESS_SNIPPET, "app.js", async (url) => {
      assert.deepEqual((await get(`${url}/api/me`, { cookie: cookieFor(TOKEN) })).body, { user_id: 61 });
      assert.deepEqual((await get(`${url}/api/me`)).body, { error: "unauthorized" });
      const crossSite = await get(`${url}/api/me`, { cookie: cookieFor(TOKEN), origin: "https://evil.example" });
      assert.equal(crossSite.status, 401);
      assert.equal((await get(`${url}/`, { cookie: cookieFor(TOKEN) })).body, "Hello, user 61");
      assert.equal((await get(`${url}/`)).body, "Hello, stranger");
    });
  });

  it("ws.js greets a connection with the session, refuses one without, closes it with 4001 on sign-out", async () => {
    await withSnippet(WS_SNIPPET, "ws.js", async (url) => {
      await assert.rejects(openWebSocket(url), { status: 401 });
      const origin = "https://app.example.com";
      const { ws, greeting } = await openWebSocket(url, { cookie: cookieFor(TOKEN), origin });
      assert.deepEqual(greeting, { hello: 61 });
      const closed = closing(ws, 1000);
      const admin = new Redis(redis.url);
      try {
        await admin.hdel("mySessionStore", TOKEN);
        await admin.publish("mySessionStore:revoked", TOKEN);
        assert.deepEqual(await closed.then(({ code, reason }) => [code, reason]), [4001, "session revoked"]);
      } finally {
        await admin.hset("mySessionStore", TOKEN, '{"user_id":61}');
        admin.disconnect();
      }
    });
  });
});

describe("the README's browser snippet", () => {
  let redis;
  let server;

  before(async () => {
    redis = await RedisServer.start();
    const admin = new Redis(redis.url);
    await admin.hset("mySessionStore", TOKEN, '{"user_id":62}');
    admin.disconnect();
    server = await startServer({ redis: redis.url, commandTimeout: 300 });
  });

  after(async () => {
    await server?.close();
    await redis?.cleanup();
  });

  // Runs the snippet as a page would, against `url` with `cookie`; returns its socket and the
  // window whose location it may change.
  function page(url, cookie) {
    const window = { location: "/dashboard" };
    let socket;
    const io = (_url, options) => {
      socket = connectClient(url, {
        ...options, transports: ["websocket"], extraHeaders: { cookie }, forceNew: true,
        reconnectionDelay: 50, reconnectionDelayMax: 100,
      });
      return socket;
    };
    new Function("io", "window", snippetAfter(BROWSER_SNIPPET))(io, window);
    return { socket, window };
  }

  it("stays on the page through transport errors (the Node server restarting)", async () => {
    const nothing = await RedisServer.start(); // a free port: nothing listens there now
    await nothing.cleanup();
    const { socket, window } = page(`http://127.0.0.1:${nothing.port}`, cookieFor(TOKEN));
    try {
      let errors = 0;
      socket.on("connect_error", () => { errors += 1; });
      assert.ok(await eventually(() => errors >= 3, 3000), "the client keeps retrying");
      assert.equal(window.location, "/dashboard");
    } finally {
      socket.close();
    }
  });

  it("stays on the page when the Node server shuts down (a restart)", async () => {
    const restarting = await startServer({ redis: redis.url });
    const { socket, window } = page(restarting.url, cookieFor(TOKEN));
    try {
      await new Promise((resolve) => socket.once("connect", resolve));
      await restarting.close();
      await delay(300);
      assert.equal(window.location, "/dashboard");
    } finally {
      socket.close();
    }
  });

  it("goes to the sign-in page when the companion refuses the session", async () => {
    const { socket, window } = page(server.url, cookieFor("ffeeddccbbaa99887766554433221100"));
    try {
      assert.ok(await eventually(() => window.location === "/users/sign_in", 2000), window.location);
    } finally {
      socket.close();
    }
  });

  it("retries, and stays on the page, while Redis is unavailable", async () => {
    redis.pause();
    const { socket, window } = page(server.url, cookieFor(TOKEN));
    try {
      await new Promise((resolve) => socket.once("connect_error", resolve));
      assert.equal(window.location, "/dashboard");
    } finally {
      redis.resume();
    }
    try {
      await new Promise((resolve) => socket.once("connect", resolve));
      assert.equal(window.location, "/dashboard");
    } finally {
      socket.close();
    }
  });

  it("goes to the sign-in page when the session is revoked", async () => {
    const { socket, window } = page(server.url, cookieFor(TOKEN));
    try {
      await new Promise((resolve) => socket.once("connect", resolve));
      const admin = new Redis(redis.url);
      await admin.hdel("mySessionStore", TOKEN);
      await admin.publish("mySessionStore:revoked", TOKEN);
      admin.disconnect();
      assert.ok(await eventually(() => window.location === "/users/sign_in", 2000), window.location);
    } finally {
      socket.close();
    }
  });
});
