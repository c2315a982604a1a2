"use strict";

// Through Sentinel (a master, a replica, 3 sentinels, spec/support/redis_topology.rb): both
// layouts find the master by asking the sentinels, and revocations published on it disconnect.

const assert = require("node:assert/strict");
const { after, before, describe, it } = require("node:test");
const Redis = require("ioredis");
const { startSentinel } = require("./support/topology");
const { eventually } = require("./support/redis-server");
const { startServer, connect, disconnection, whoami, cookieFor } = require("./support/harness");
const { clusterToken, publishEntry, revokeEntry } = require("./support/cluster-layout");

describe("through Sentinel", () => {
  let topology;
  let master;
  let hashLayout;
  let clusterLayout;

  before(async () => {
    topology = await startSentinel();
    const { sentinel_urls: sentinels, master_name: name, master_port: port } = topology.description;
    master = new Redis({ port });
    // The redis URL's host and port are not used: the sentinels name the master.
    hashLayout = await startServer({ sentinels, name, redis: "redis://127.0.0.1:1/0" });
    clusterLayout = await startServer({ sentinels: sentinels.slice(1), name, layout: "cluster" });
  });

  after(async () => {
    await hashLayout?.close();
    await clusterLayout?.close();
    master?.disconnect();
    await topology?.stop();
  });

  it("finds a hash-layout entry on the master the sentinels name, and disconnects on its revocation", async () => {
    const token = "0123456789abcdef0123456789abcdef";
    await master.hset("mySessionStore", token, '{"user_id":81}');
    const socket = await connect(hashLayout.url, { cookie: cookieFor(token) });
    assert.deepEqual(await whoami(socket), { user_id: 81 });
    const disconnected = disconnection(socket, 1000);

    await master.hdel("mySessionStore", token);
    await master.publish("mySessionStore:revoked", token);

    assert.equal((await disconnected).reason, "io server disconnect");
  });

  it("finds a cluster-layout entry, and disconnects on its revocation", async () => {
    const token = clusterToken(82);
    await publishEntry(master, token, '{"user_id":82}', { userId: 82 });
    const socket = await connect(clusterLayout.url, { cookie: cookieFor(token) });
    assert.deepEqual(await whoami(socket), { user_id: 82 });
    const disconnected = disconnection(socket, 1000);

    await revokeEntry(master, token);

    assert.equal((await disconnected).reason, "io server disconnect");
  });

  it("reads the master's password and db from the redis URL, the sentinels' from theirs", async () => {
    const { sentinel_urls: sentinels, master_name: name, replica_port: replicaPort } = topology.description;
    const replica = new Redis({ port: replicaPort });
    const token = "fedcba9876543210fedcba9876543210";
    await master.select(3);
    await master.hset("mySessionStore", token, '{"user_id":83}');
    await master.select(0);
    await master.config("SET", "requirepass", "m@ster secret");
    await replica.config("SET", "masterauth", "m@ster secret");
    const guarded = await startServer({ sentinels, name, redis: "redis://:m%40ster%20secret@ignored/3" });
    try {
      assert.deepEqual(await guarded.auth.authorize(cookieFor(token)), { user_id: 83 });
    } finally {
      await guarded.close();
      await master.config("SET", "requirepass", "");
      await replica.config("SET", "masterauth", "");
      replica.disconnect();
    }
  });

  // Last: the topology's master changes.
  it("follows a planned failover (SENTINEL FAILOVER): a revocation on the new master disconnects", async () => {
    const { sentinel_ports: [sentinelPort], master_name: name, replica_port: replicaPort } = topology.description;
    const token = clusterToken(84);
    await publishEntry(master, token, '{"user_id":84}', { userId: 84 });
    await master.wait(1, 1000);
    const socket = await connect(clusterLayout.url, { cookie: cookieFor(token) });
    const sentinel = new Redis({ port: sentinelPort });
    const promoted = new Redis({ port: replicaPort });
    try {
      await sentinel.sentinel("FAILOVER", name);
      assert.ok(await eventually(async () => {
        const [, subscribed] = await promoted.pubsub("NUMSUB", "mySessionStore:revoked");
        return subscribed === 2 && (await promoted.info("replication")).includes("role:master");
      }, 10_000), "both companions' subscribers moved to the promoted master");
      assert.deepEqual(await clusterLayout.auth.authorizeToken(token), { user_id: 84 });
      const disconnected = disconnection(socket, 1000);

      await revokeEntry(promoted, token);

      assert.equal((await disconnected).reason, "io server disconnect");
    } finally {
      sentinel.disconnect();
      promoted.disconnect();
    }
  });
});
