"use strict";

// The README's install command, run in an empty project: the package it installs must load and
// authenticate a Socket.IO handshake against a real redis-server.

const assert = require("node:assert/strict");
const { execFile, spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { after, before, it } = require("node:test");
const Redis = require("ioredis");
const { io: connectClient } = require("socket.io-client");
const { RedisServer } = require("./support/redis-server");
const { REPO } = require("./support/gem");
const { cookieFor } = require("./support/harness");
const { snippetAfter } = require("./support/readme");

const TOKEN = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

let redis;
let project;

before(async () => {
  redis = await RedisServer.start();
  const admin = new Redis(redis.url);
  await admin.hset("mySessionStore", TOKEN, '{"user_id":71}');
  admin.disconnect();
  project = fs.mkdtempSync(path.join(os.tmpdir(), "session-bridge-install-"));
});

after(async () => {
  if (project) fs.rmSync(project, { recursive: true, force: true });
  await redis?.cleanup();
});

function run(command, args, options) {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 25_000, ...options }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${args.join(" ")}: ${error.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

it("installs with the README's command into an empty project, and authenticates a handshake there", async () => {
  const command = snippetAfter("is not on the npm registry").trim()
    .replace("/path/to/session_bridge", REPO);
  fs.writeFileSync(path.join(project, "package.json"), '{ "name": "app", "private": true }\n');
  // As documented, with the npm cache preferred (the registry is only asked for what it lacks).
  await run("sh", ["-c", command], {
    cwd: project,
    env: { ...process.env, npm_config_prefer_offline: "true", npm_config_audit: "false", npm_config_fund: "false" },
  });

  const installed = path.join(project, "node_modules", "session-bridge");
  assert.equal(fs.lstatSync(installed).isSymbolicLink(), false, "a copy, not a link into the repository");
  const loaded = "process.stdout.write(typeof require('session-bridge').createAuthenticator)";
  assert.equal(await run(process.execPath, ["-e", loaded], { cwd: project }), "function");
  // Its own dependencies come from the project, not from the repository's node_modules.
  const resolved = "process.stdout.write(require.resolve('ioredis', { paths: [require.resolve('session-bridge')] }))";
  const ioredis = await run(process.execPath, ["-e", resolved], { cwd: project });
  assert.ok(ioredis.startsWith(fs.realpathSync(project)), ioredis);

  // The README's server.js, from the project: one handshake with a live session.
  fs.writeFileSync(path.join(project, "server.js"), snippetAfter("A complete server (`server.js`):"));
  const child = spawn(process.execPath, ["server.js"], {
    cwd: project, env: { ...process.env, PORT: "0", REDIS_URL: redis.url }, stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  try {
    const port = await new Promise((resolve, reject) => {
      let output = "";
      child.stdout.on("data", (chunk) => {
        output += chunk;
        const match = /listening on (\d+)/.exec(output);
        if (match) resolve(Number(match[1]));
      });
      exited.then(() => reject(new Error(`server.js exited: ${output}`)));
      setTimeout(() => reject(new Error(`server.js did not say "listening on <port>": ${output}`)), 5000).unref();
    });
    const socket = connectClient(`http://127.0.0.1:${port}`, {
      transports: ["websocket"], extraHeaders: { cookie: cookieFor(TOKEN) }, reconnection: false, forceNew: true,
    });
    try {
      const session = await new Promise((resolve, reject) => {
        socket.once("hello", resolve);
        socket.once("connect_error", reject);
      });
      assert.deepEqual(session, { user_id: 71 });
    } finally {
      socket.close();
    }
  } finally {
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
  }
});
