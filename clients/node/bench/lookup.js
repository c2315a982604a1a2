"use strict";

// authorize(cookie) against what a Node server would write by hand (read the cookie, one HGET,
// JSON.parse), side by side in one run against a redis-server started here: lookups per second
// and Node CPU per lookup, one at a time and 32 in flight. Prints a markdown table.
//
//   node bench/lookup.js           # full run
//   node bench/lookup.js --short   # a few hundred lookups: proves it works (CI), never fails on speed

const Redis = require("ioredis");
const { createAuthenticator } = require("..");
const { RedisServer } = require("../test/support/redis-server");

const SHORT = process.argv.includes("--short");
const SECONDS = SHORT ? 0.1 : 2;
const ROUNDS = SHORT ? 1 : 5;
const TOKEN = "0123456789abcdef0123456789abcdef";
const COOKIE = `_validation_token_key=${TOKEN}; other=1`;
const ENTRY = JSON.stringify({ user_id: 48213, username: "ada.lovelace", roles: ["admin", "editor"] });

async function measure(lookup, inFlight) {
  let count = 0;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(SECONDS * 1e9));
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (process.hrtime.bigint() < deadline) {
      if ((await lookup()) === null) throw new Error("the lookup found nothing");
      count += 1;
    }
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  return { rate: count / seconds, cpu: (used.user + used.system) / count };
}

async function main() {
  const server = await RedisServer.start();
  const admin = new Redis(server.url);
  await admin.hset("mySessionStore", TOKEN, ENTRY);
  await admin.zadd("mySessionStore:expires", Date.now() + 3600e3, TOKEN);
  const auth = createAuthenticator({ redis: server.url });
  const plain = new Redis(server.url, { enableOfflineQueue: false });
  await new Promise((resolve) => plain.once("ready", resolve));
  const variants = {
    "session-bridge authorize()": () => auth.authorize(COOKIE),
    "cookie + HGET + JSON.parse": async () => {
      const token = /(?:^|;\s*)_validation_token_key=([^;]*)/.exec(COOKIE)?.[1];
      const json = token && (await plain.hget("mySessionStore", token));
      return json ? JSON.parse(json) : null;
    },
  };
  const rows = [];
  for (const inFlight of [1, 32]) {
    const best = {};
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const [name, lookup] of Object.entries(variants)) {
        const result = await measure(lookup, inFlight);
        if (!best[name] || result.rate > best[name].rate) best[name] = result;
      }
    }
    rows.push([inFlight, best]);
  }
  console.log(`## Node lookups (${SHORT ? "short run, figures meaningless" : `best of ${ROUNDS} runs of ${SECONDS} s`})\n`);
  console.log("| in flight | authorize() lookups/s | Node CPU µs | cookie + HGET lookups/s | Node CPU µs | ratio |");
  console.log("| ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const [inFlight, best] of rows) {
    const ours = best["session-bridge authorize()"];
    const theirs = best["cookie + HGET + JSON.parse"];
    console.log(`| ${inFlight} | ${Math.round(ours.rate)} | ${ours.cpu.toFixed(1)} | ${Math.round(theirs.rate)} | ` +
      `${theirs.cpu.toFixed(1)} | ${(ours.rate / theirs.rate).toFixed(2)}× |`);
  }
  await auth.close();
  plain.disconnect();
  admin.disconnect();
  await server.stop();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
