"use strict";

// Real Redis Cluster and Sentinel setups on loopback for the Node tests, started by the Ruby specs'
// own support library (spec/support/redis_topology.rb in its CLI mode), so both sides test against
// the same thing. The Ruby process owns the servers; it stops them when its stdin closes, which
// also happens if this process dies.

const { spawn } = require("node:child_process");
const path = require("node:path");
const readline = require("node:readline");
const { REPO } = require("./gem");

const SCRIPT = path.join(REPO, "spec", "support", "redis_topology.rb");
const REPLY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 10_000;

const running = new Set();
process.once("exit", () => {
  for (const child of running) child.kill("SIGTERM");
});

class Topology {
  static async start(kind) {
    const topology = new Topology(kind);
    const description = await topology.request(null);
    if ("error" in description) {
      await topology.stop();
      throw new Error(`the ${kind} did not start: ${description.error}`);
    }
    topology.description = description;
    return topology;
  }

  constructor(kind) {
    this.kind = kind;
    this.description = null;
    this.waiting = [];
    this.child = spawn("ruby", [SCRIPT, kind], { stdio: ["pipe", "pipe", "inherit"] });
    running.add(this.child);
    this.exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.once("exit", (code, signal) => {
      running.delete(this.child);
      for (const { reject } of this.waiting.splice(0)) {
        reject(new Error(`redis_topology.rb ${kind} exited (${signal ?? code})`));
      }
    });
    this.child.once("error", () => {});
    readline.createInterface({ input: this.child.stdout }).on("line", (line) => {
      const { resolve, timer } = this.waiting.shift();
      clearTimeout(timer);
      if (this.waiting.length === 0) this.idle();
      resolve(JSON.parse(line));
    });
    this.idle();
  }

  // SIGKILL on a master (the cluster needs its port; the sentinel setup kills its master); resolves
  // to the port killed.
  async killMaster(port) {
    return (await this.command("kill_master", port)).killed;
  }

  // Resolves to { elapsed, description } once a replica has taken over; elapsed is seconds since the kill.
  async waitForFailover(port) {
    const reply = await this.command("wait_for_failover", port);
    this.description = reply.description;
    return reply;
  }

  // Brings a killed node back on its port; resolves to { restarted, role, description }.
  async restart(port) {
    const reply = await this.command("restart", port);
    this.description = reply.description;
    return reply;
  }

  // Closes the Ruby process' stdin, which stops every server; SIGKILL if it takes too long.
  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.ref();
      this.child.stdin.end();
      const timer = setTimeout(() => this.child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    }
  }

  async command(name, port) {
    const reply = await this.request(port === undefined ? name : `${name} ${port}`);
    if ("error" in reply) throw new Error(`${name}: ${reply.error}`);
    return reply;
  }

  // Sends a command line (null: none, wait for the description) and resolves to the JSON answer.
  request(line) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.kill("SIGTERM");
        const what = line ?? "start";
        reject(new Error(`redis_topology.rb ${this.kind}: no answer to ${what} within ${REPLY_TIMEOUT_MS} ms`));
      }, REPLY_TIMEOUT_MS);
      this.waiting.push({ resolve, reject, timer });
      this.busy();
      if (line !== null) this.child.stdin.write(`${line}\n`);
    });
  }

  // The child keeps the test process alive only while an answer is awaited, so a test that forgets
  // stop() still exits (and the exit handler stops the servers).
  busy() {
    this.child.ref();
    this.child.stdout.ref();
  }

  idle() {
    this.child.unref();
    this.child.stdout.unref();
    this.child.stdin.unref?.();
  }
}

function startCluster() {
  return Topology.start("cluster");
}

function startSentinel() {
  return Topology.start("sentinel");
}

module.exports = { startCluster, startSentinel, Topology };
