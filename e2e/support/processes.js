"use strict";

// Starting and stopping the servers browser.test.js needs: free loopback ports, child processes
// whose output is kept for failure messages, readiness polls with deadlines.

const { spawn } = require("node:child_process");
const http = require("node:http");
const net = require("node:net");

const running = new Set();
// A test run cut short (an uncaught error, a timeout) still leaves no server behind.
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

// `count` distinct free loopback ports (all held open at once, so none is handed out twice).
async function freePorts(count) {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  })));
  const ports = servers.map((server) => server.address().port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

// process.env as it was before `bundle exec` (Bundler.with_original_env): Debian's puma is not
// in Gemfile.lock, so the app must not run inside the bundle.
function unbundledEnv() {
  const env = { ...process.env };
  for (const [name, value] of Object.entries(process.env)) {
    const match = /^BUNDLER_ORIG_(.+)$/.exec(name);
    if (!match) continue;
    delete env[name];
    if (value === "BUNDLER_ENVIRONMENT_PRESERVER_INTENTIONALLY_NIL") delete env[match[1]];
    else env[match[1]] = value;
  }
  return env;
}

class Child {
  constructor(name, command, args, { env, cwd }) {
    this.name = name;
    this.output = "";
    this.process = spawn(command, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    running.add(this.process);
    this.exited = new Promise((resolve) => {
      this.process.once("exit", (code, signal) => {
        running.delete(this.process);
        resolve({ code, signal });
      });
      this.process.once("error", (error) => {
        running.delete(this.process);
        this.output += `${error.message}\n`;
        resolve({ code: null, signal: null, error });
      });
    });
    for (const stream of [this.process.stdout, this.process.stderr]) {
      stream.setEncoding("utf8");
      stream.on("data", (chunk) => {
        this.output = (this.output + chunk).slice(-20_000);
      });
    }
  }

  get gone() {
    return this.process.exitCode !== null || this.process.signalCode !== null || !running.has(this.process);
  }

  // Resolves once `ready()` returns true; rejects, with the output so far, when the process exits
  // or the time is up.
  async waitUntil(ready, what, withinMs) {
    const deadline = Date.now() + withinMs;
    for (;;) {
      if (await ready()) return;
      if (this.gone) throw new Error(`${this.name} exited before ${what}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`${this.name}: no ${what} within ${withinMs} ms:\n${this.output}`);
      await delay(50);
    }
  }

  // SIGTERM, then SIGKILL after `graceMs`.
  async stop(graceMs = 5000) {
    if (this.gone) return;
    this.process.kill("SIGTERM");
    const timer = setTimeout(() => this.process.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

// The status code of a GET, or null when nothing answers within a second.
function httpStatus(url) {
  return new Promise((resolve) => {
    const request = http.get(url, { timeout: 1000 }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.once("timeout", () => request.destroy());
    request.once("error", () => resolve(null));
  });
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Rejects after `ms` with a message naming `what`; the timer never keeps the process alive.
function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

module.exports = { Child, freePorts, unbundledEnv, httpStatus, within };
