"use strict";

// Starts a throwaway redis-server on a free loopback port, waits until it answers, and stops it.
// It never touches a server it did not start.

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function ping(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let reply = "";
    socket.setTimeout(500, () => socket.destroy());
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk;
      socket.destroy();
    });
    socket.on("error", () => {});
    socket.on("close", () => resolve(reply.startsWith("+PONG")));
  });
}

class RedisServer {
  static async start() {
    const server = new RedisServer(await freePort());
    await server.start();
    return server;
  }

  constructor(port) {
    this.port = port;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "session-bridge-node-redis-"));
    this.process = null;
  }

  get url() {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  async start() {
    const binary = process.env.REDIS_SERVER || "redis-server";
    this.process = spawn(binary, ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "",
      "--appendonly", "no", "--dir", this.dir, "--logfile", path.join(this.dir, "redis.log")],
    { stdio: "ignore" });
    const exited = new Promise((resolve) => this.process.once("exit", resolve));
    this.process.once("error", () => {});
    const deadline = Date.now() + 10_000;
    while (!(await ping(this.port))) {
      const gone = await Promise.race([exited.then(() => true), delay(20).then(() => false)]);
      if (gone || Date.now() > deadline) throw new Error(`redis-server did not start on port ${this.port}`);
    }
  }

  async stop() {
    const child = this.process;
    if (!child) return;
    this.process = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGCONT");
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }

  // SIGSTOP: the server keeps its socket open but answers nothing, like a stalled host.
  pause() {
    this.process.kill("SIGSTOP");
  }

  resume() {
    this.process.kill("SIGCONT");
  }

  async cleanup() {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

module.exports = { RedisServer, delay };

// Polls `check` until it returns a truthy value or the time is up; resolves to that value.
async function eventually(check, withinMs = 2000) {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await check();
    if (value || Date.now() > deadline) return value;
    await delay(20);
  }
}

module.exports.eventually = eventually;
