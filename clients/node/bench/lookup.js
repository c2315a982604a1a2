"use strict";

// What session-bridge costs a Node server against what it would write by hand (read the cookie,
// one HGET, JSON.parse), side by side in one run against a redis-server started here:
//   1. authorize(cookie) lookups per second and Node CPU per lookup, one at a time and 32 in flight,
//      on connections with the same ioredis options;
//   2. server CPU per Socket.IO handshake (websocket transport, socket.io-client), with
//      io.use(auth.socketIo()) against a hand-written io.use middleware, each server in a child
//      process of its own whose process.cpuUsage() is read before and after the handshakes.
// Prints markdown tables: each figure is the best of the runs, the median run beside it; the
// variants take turns run by run; ratios divide best figures of this run (medians beside them).
//
//   node bench/lookup.js           # full run (about two minutes)
//   node bench/lookup.js --short   # a few hundred lookups and handshakes: proves it works (CI),
//                                  # never fails on speed

const http = require("node:http");
const { fork } = require("node:child_process");
const Redis = require("ioredis");
const { createAuthenticator } = require("..");
const { lookupOptions } = require("../lib/connections");
const { DEFAULTS } = require("../lib/options");
const { RedisServer } = require("../test/support/redis-server");

const SHORT = process.argv.includes("--short");
const LOOKUP_SECONDS = SHORT ? 0.05 : 2;
const HANDSHAKES = SHORT ? 100 : 2000;
const HANDSHAKES_IN_FLIGHT = 8;
const RUNS = SHORT ? 1 : 5;
const WARM_UP = !SHORT; // one uncounted run of everything first, so both variants are compiled

const TOKEN = "0123456789abcdef0123456789abcdef";
const COOKIE = `_session_id=abc; _validation_token_key=${TOKEN}; theme=dark`;
const ENTRY = JSON.stringify({
  user_id: 48213, username: "ada.lovelace", email: "ada.lovelace@example.com", roles: ["admin", "editor", "viewer"],
  admin: true, confirmed: true, locale: "en-GB", tenant_id: 17, signed_in_at: 1717171717,
});
const OURS = "session-bridge";
const BASELINE = "cookie + HGET";

// The lookup a Node server writes by hand.
function handWrittenLookup(redis) {
  return async (cookieHeader) => {
    const token = /(?:^|;\s*)_validation_token_key=([0-9a-f]{32})(?:;|$)/.exec(cookieHeader ?? "")?.[1];
    const json = token && (await redis.hget("mySessionStore", token));
    return json ? JSON.parse(json) : null;
  };
}

// --- 1. lookups -----------------------------------------------------------------------------

// Redis' own CPU time so far (INFO cpu), in microseconds.
async function redisCpuMicros(redis) {
  const info = await redis.info("cpu");
  const seconds = (name) => Number(new RegExp(`^${name}:([0-9.]+)`, "m").exec(info)[1]);
  return (seconds("used_cpu_user") + seconds("used_cpu_sys")) * 1e6;
}

async function lookupsPerSecond(lookup, inFlight, admin) {
  let count = 0;
  const redisCpu = await redisCpuMicros(admin);
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(LOOKUP_SECONDS * 1e9));
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (process.hrtime.bigint() < deadline) {
      if ((await lookup(COOKIE)) === null) throw new Error("the lookup found nothing");
      count += 1;
    }
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  return {
    rate: count / seconds,
    cpuMicros: (used.user + used.system) / count,
    redisCpuMicros: ((await redisCpuMicros(admin)) - redisCpu) / count,
  };
}

async function benchLookups(redisUrl) {
  const auth = createAuthenticator({ redis: redisUrl });
  const plain = new Redis(redisUrl, lookupOptions({ ...DEFAULTS }));
  const admin = new Redis(redisUrl);
  await new Promise((resolve) => plain.once("ready", resolve));
  const variants = { [OURS]: (cookie) => auth.authorize(cookie), [BASELINE]: handWrittenLookup(plain) };
  const rows = [];
  for (const inFlight of [1, 32]) {
    const runs = await takeTurns(variants, (lookup) => lookupsPerSecond(lookup, inFlight, admin));
    rows.push([inFlight, runs]);
  }
  await auth.close();
  plain.disconnect();
  admin.disconnect();
  return rows;
}

// --- 2. Socket.IO handshakes ------------------------------------------------------------------

// In a child process: a Socket.IO server guarded one way or the other; answers "cpu" messages
// with its process.cpuUsage() once every handshake so far has been closed on its side.
async function serve(variant, redisUrl) {
  const { Server } = require("socket.io");
  const httpServer = http.createServer();
  const io = new Server(httpServer, { transports: ["websocket"] });
  let auth;
  let plain;
  if (variant === OURS) {
    auth = createAuthenticator({ redis: redisUrl });
    io.use(auth.socketIo());
  } else {
    plain = new Redis(redisUrl, lookupOptions({ ...DEFAULTS }));
    const lookup = handWrittenLookup(plain);
    io.use((socket, next) => {
      lookup(socket.handshake.headers.cookie).then((session) => {
        if (!session) return next(new Error("unauthorized"));
        socket.data.session = session;
        return next();
      }, () => next(new Error("unauthorized")));
    });
  }
  io.on("connection", () => {});
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  process.on("message", async (message) => {
    if (message === "cpu") {
      while (io.engine.clientsCount > 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const { user, system } = process.cpuUsage();
      process.send({ cpuMicros: user + system });
    } else if (message === "stop") {
      io.close();
      await auth?.close();
      plain?.disconnect();
      process.disconnect();
    }
  });
  process.send({ port: httpServer.address().port });
}

class ServerProcess {
  static async start(variant, redisUrl) {
    const child = fork(__filename, ["--serve", variant, redisUrl], { stdio: "inherit" });
    const { port } = await nextMessage(child);
    return new ServerProcess(child, `http://127.0.0.1:${port}`);
  }

  constructor(child, url) {
    this.child = child;
    this.url = url;
  }

  async cpuMicros() {
    this.child.send("cpu");
    return (await nextMessage(this.child)).cpuMicros;
  }

  async stop() {
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.send("stop");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}

function nextMessage(child) {
  return new Promise((resolve, reject) => {
    const onExit = (code) => reject(new Error(`the server process exited (${code})`));
    child.once("exit", onExit);
    child.once("message", (message) => {
      child.off("exit", onExit);
      resolve(message);
    });
  });
}

// One handshake: connect over websocket with the cookie, wait to be accepted, disconnect.
function handshake(url) {
  const { io: connectClient } = require("socket.io-client");
  const socket = connectClient(url, {
    transports: ["websocket"], extraHeaders: { cookie: COOKIE }, reconnection: false, forceNew: true,
  });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => {
      socket.disconnect();
      resolve();
    });
    socket.once("connect_error", (error) => {
      socket.close();
      reject(error);
    });
  });
}

async function serverCpuPerHandshake(server) {
  const before = await server.cpuMicros();
  let next = 0;
  await Promise.all(Array.from({ length: HANDSHAKES_IN_FLIGHT }, async () => {
    while (next < HANDSHAKES) {
      next += 1;
      await handshake(server.url);
    }
  }));
  return { cpuMicros: ((await server.cpuMicros()) - before) / HANDSHAKES };
}

async function benchHandshakes(redisUrl) {
  const servers = {
    [OURS]: await ServerProcess.start(OURS, redisUrl),
    [BASELINE]: await ServerProcess.start(BASELINE, redisUrl),
  };
  try {
    return await takeTurns(servers, serverCpuPerHandshake);
  } finally {
    await Promise.all(Object.values(servers).map((server) => server.stop()));
  }
}

// --- running and printing ----------------------------------------------------------------------

// Every variant measured RUNS times, the variants taking turns: { variant: [result, ...] }.
async function takeTurns(variants, measure) {
  const runs = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  if (WARM_UP) for (const subject of Object.values(variants)) await measure(subject);
  for (let run = 0; run < RUNS; run += 1) {
    for (const [name, subject] of Object.entries(variants)) runs[name].push(await measure(subject));
  }
  return runs;
}

// The best and the median of one figure over the runs (best: the highest, or the lowest).
function summary(results, figure, lowestIsBest) {
  const values = results.map((result) => result[figure]).sort((a, b) => (lowestIsBest ? a - b : b - a));
  return { best: values[0], median: values[Math.floor((values.length - 1) / 2)] };
}

// Our figure, the baseline's and their ratio, as three table cells.
function compared(runs, figure, { lowestIsBest, digits }) {
  const ours = summary(runs[OURS], figure, lowestIsBest);
  const theirs = summary(runs[BASELINE], figure, lowestIsBest);
  const places = { minimumFractionDigits: digits, maximumFractionDigits: digits };
  const cell = (best, median, format) => (RUNS > 1 ? `${format(best)} (${format(median)})` : format(best));
  const number = (value) => value.toLocaleString("en-US", places);
  const ratio = (value) => `${value.toFixed(2)}×`;
  return [cell(ours.best, ours.median, number), cell(theirs.best, theirs.median, number),
    cell(ours.best / theirs.best, ours.median / theirs.median, ratio)];
}

function printTable(headers, rows) {
  console.log(`| ${headers.join(" | ")} |`);
  console.log(`| ${headers.map(() => "---:").join(" | ")} |`);
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
}

function printLookups(rows) {
  printTable(["in flight", "authorize() lookups/s", "cookie + HGET lookups/s", "ratio",
    "authorize() Node CPU µs", "cookie + HGET Node CPU µs", "ratio",
    "authorize() Redis CPU µs", "cookie + HGET Redis CPU µs", "ratio"],
  rows.map(([inFlight, runs]) => [inFlight,
    ...compared(runs, "rate", { lowestIsBest: false, digits: 0 }),
    ...compared(runs, "cpuMicros", { lowestIsBest: true, digits: 1 }),
    ...compared(runs, "redisCpuMicros", { lowestIsBest: true, digits: 1 })]));
}

function printHandshakes(runs) {
  printTable(
    ["handshakes per run", "io.use(auth.socketIo()) server CPU µs", "hand-written middleware server CPU µs", "ratio"],
    [[HANDSHAKES.toLocaleString("en-US"), ...compared(runs, "cpuMicros", { lowestIsBest: true, digits: 0 })]],
  );
}

async function main() {
  const server = await RedisServer.start();
  try {
    const admin = new Redis(server.url);
    await admin.hset("mySessionStore", TOKEN, ENTRY);
    await admin.zadd("mySessionStore:expires", Date.now() + 24 * 3600e3, TOKEN);
    admin.disconnect();
    const lookups = await benchLookups(server.url);
    const handshakes = await benchHandshakes(server.url);

    const how = SHORT ? "short run: figures meaningless" : `best of ${RUNS} runs, median in brackets`;
    console.log(`## Node lookups (${how}, ${LOOKUP_SECONDS} s each, Node ${process.version})\n`);
    printLookups(lookups);
    console.log(`\n## Socket.IO handshakes, server CPU per handshake (${how}, websocket transport, ` +
      `${HANDSHAKES_IN_FLIGHT} in flight)\n`);
    printHandshakes(handshakes);
  } finally {
    await server.cleanup();
  }
}

const serving = process.argv.indexOf("--serve");
const run = serving === -1 ? main() : serve(process.argv[serving + 1], process.argv[serving + 2]);
run.catch((error) => {
  console.error(error);
  process.exit(1);
});
