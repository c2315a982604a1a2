"use strict";

// The cluster layout on a real Redis Cluster (3 masters, 3 replicas, spec/support/redis_topology.rb):
// each entry on the master that owns its tag's slot, one lookup there, and revocations heard from
// whichever node publishes them.

const assert = require("node:assert/strict");
const { after, before, describe, it } = require("node:test");
const Redis = require("ioredis");
const { createAuthenticator } = require("..");
const { eventually } = require("./support/redis-server");
const { contract } = require("./support/contract");
const { startCluster } = require("./support/topology");
const { startServer, connect, disconnection, whoami, cookieFor, commandCalls } = require("./support/harness");
const { clusterToken, keysFor, publishEntry, revokeEntry, keySlot } = require("./support/cluster-layout");

const layout = contract("cluster_layout");

// The port of the master that owns a slot, in a topology's description.
function masterFor(description, slot) {
  return description.shards.find(({ slots }) => slots.some(([first, last]) => slot >= first && slot <= last)).master;
}

// One token per master, for users 0, 1, 2, ... until every master has one.
function tokensOnEveryMaster(description) {
  const tokens = new Map();
  for (let userId = 0; tokens.size < description.masters.length; userId += 1) {
    const token = clusterToken(userId);
    const master = masterFor(description, keySlot(keysFor(token).entry));
    if (!tokens.has(master)) tokens.set(master, { token, userId });
  }
  return tokens;
}

describe("the cluster layout on a Redis Cluster", () => {
  let topology;
  let admin;
  let plain;
  let hashing;
  const direct = new Map(); // port -> a plain connection to that node

  before(async () => {
    topology = await startCluster();
    const seeds = topology.description.seed_urls;
    admin = new Redis.Cluster([seeds[0]]);
    for (const port of topology.description.nodes) direct.set(port, new Redis({ port }));
    plain = await startServer({ layout: "cluster", cluster: seeds.slice(0, 2) });
    hashing = await startServer({ layout: "cluster", cluster: [seeds[2]], hashTokens: true });
  });

  after(async () => {
    await plain?.close();
    await hashing?.close();
    admin?.disconnect();
    for (const connection of direct.values()) connection.disconnect();
    await topology?.stop();
  });

  it("puts each contract example in the contract's slot, on its master, and finds it from the cookie alone", async () => {
    for (const example of layout.examples) {
      const json = JSON.stringify({ user_id: example.user_id });
      await publishEntry(admin, example.token, json, { userId: example.user_id, hashTokens: example.hash_tokens });

      assert.equal(await admin.cluster("KEYSLOT", example.entry_key), example.slot);
      assert.equal(await admin.cluster("KEYSLOT", example.user_entries_key), example.slot);
      const owner = direct.get(masterFor(topology.description, example.slot));
      assert.equal(await owner.get(example.entry_key), json, "the entry is a string on the slot's master");
      assert.equal(await owner.hexists(example.user_entries_key, example.field), 1);

      const { auth } = example.hash_tokens ? hashing : plain;
      assert.deepEqual(await auth.authorize(cookieFor(example.token)), { user_id: example.user_id }, example.token);
    }
  });

  it("looks each entry up with one EVALSHA on the master that owns its slot", async () => {
    const tokens = tokensOnEveryMaster(topology.description);
    for (const { token, userId } of tokens.values()) {
      await publishEntry(admin, token, JSON.stringify({ user_id: userId }), { userId });
      await plain.auth.authorizeToken(token); // loads the script on that master
    }
    for (const [port, { token, userId }] of tokens) {
      const before = await Promise.all(topology.description.masters.map((master) => commandCalls(direct.get(master))));
      assert.deepEqual(await plain.auth.authorizeToken(token), { user_id: userId });
      const after = await Promise.all(topology.description.masters.map((master) => commandCalls(direct.get(master))));
      topology.description.masters.forEach((master, index) => {
        const evalshas = (after[index].evalsha ?? 0) - (before[index].evalsha ?? 0);
        assert.equal(evalshas, master === port ? 1 : 0, `EVALSHA on ${master} for a token of ${port}'s slots`);
      });
    }
  });

  it("disconnects a live socket whichever master publishes its revocation", async () => {
    const tokens = tokensOnEveryMaster(topology.description);
    for (const [port, { token, userId }] of tokens) {
      await publishEntry(admin, token, JSON.stringify({ user_id: userId }), { userId });
      const socket = await connect(plain.url, { cookie: cookieFor(token) });
      assert.deepEqual(await whoami(socket), { user_id: userId });
      const disconnected = disconnection(socket, 1000);

      await revokeEntry(direct.get(port), token); // DEL and PUBLISH on the master that owns the entry

      assert.equal((await disconnected).reason, "io server disconnect", `revoked on ${port}`);
    }
  });

  it("disconnects a live socket when its entry's TTL runs out", async () => {
    const token = clusterToken(71);
    await publishEntry(admin, token, '{"user_id":71}', { userId: 71, ttlMs: 500 });
    const socket = await connect(hashing.url, { cookie: cookieFor(token) }).catch(() => null);
    assert.equal(socket, null, "hashing looks under another key");
    const live = await connect(plain.url, { cookie: cookieFor(token) });
    const { reason, afterMs } = await disconnection(live, 2000);
    assert.equal(reason, "io server disconnect");
    assert.ok(afterMs < 1000, `${afterMs} ms`);
  });

  it("catches up on a revocation published while its subscriber was reconnecting", async () => {
    const token = clusterToken(72);
    await publishEntry(admin, token, '{"user_id":72}', { userId: 72 });
    const socket = await connect(plain.url, { cookie: cookieFor(token) });
    const disconnected = disconnection(socket, 3000);
    // Every node drops its subscribers, then the entry is revoked while no one listens.
    await Promise.all([...direct.values()].map((node) => node.client("KILL", "TYPE", "pubsub")));
    await revokeEntry(admin, token);

    assert.equal((await disconnected).reason, "io server disconnect");
    assert.ok(await eventually(async () => {
      const counts = await Promise.all([...direct.values()].map((node) => node.pubsub("NUMSUB", "mySessionStore:revoked")));
      return counts.reduce((sum, [, count]) => sum + count, 0) >= 2;
    }, 3000), "both companions subscribed again");
  });

  it("uses a Redis.Cluster client passed as redis for lookups, and leaves it open", async () => {
    const client = new Redis.Cluster([topology.description.seed_urls[1]]);
    const auth = createAuthenticator({ layout: "cluster", redis: client, onError: () => {} });
    try {
      const token = clusterToken(73);
      await publishEntry(admin, token, '{"user_id":73}', { userId: 73 });
      assert.deepEqual(await auth.authorizeToken(token), { user_id: 73 });
      await auth.close();
      assert.equal(client.status, "ready");
      assert.equal(await client.get(keysFor(token).entry), '{"user_id":73}');
    } finally {
      await auth.close();
      client.disconnect();
    }
  });
});
