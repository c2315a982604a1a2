"use strict";

// The Redis Cluster and Sentinel setups started through the Ruby specs' support library
// (test/support/topology.js): what the description says is what is running.

const assert = require("node:assert/strict");
const { after, before, describe, it } = require("node:test");
const Redis = require("ioredis");
const { startCluster, startSentinel } = require("./support/topology");

const LOOPBACK_URL = /^redis:\/\/127\.0\.0\.1:\d+$/;

// Runs `use` with a client connected to one loopback port, then disconnects it.
async function withNode(port, use) {
  const client = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await client.connect();
    return await use(client);
  } finally {
    client.disconnect();
  }
}

async function role(port) {
  return withNode(port, async (client) => {
    assert.equal(await client.ping(), "PONG");
    return (await client.role())[0];
  });
}

describe("a cluster from startCluster()", () => {
  let cluster;

  before(async () => {
    cluster = await startCluster();
  });

  after(async () => {
    await cluster?.stop();
  });

  it("describes three masters and three replicas on loopback, each answering in its role", async () => {
    const { masters, replicas, nodes, seed_urls: seedUrls } = cluster.description;
    assert.equal(masters.length, 3);
    assert.equal(replicas.length, 3);
    assert.deepEqual([...masters, ...replicas].sort(), [...nodes].sort());
    for (const url of seedUrls) assert.match(url, LOOPBACK_URL);
    for (const port of masters) assert.equal(await role(port), "master");
    for (const port of replicas) assert.equal(await role(port), "slave");
  });

  it("serves ioredis' cluster client from the seed URLs, and a replica takes over a killed master", async () => {
    const seeds = cluster.description.seed_urls.map((url) => ({ host: "127.0.0.1", port: Number(new URL(url).port) }));
    const client = new Redis.Cluster(seeds);
    try {
      await client.set("topology:node", "kept");
      const [oldMaster] = cluster.description.masters;

      assert.equal(await cluster.killMaster(oldMaster), oldMaster);
      const { elapsed, description } = await cluster.waitForFailover(oldMaster);
      assert.ok(elapsed < 8, `${elapsed} s`);
      assert.ok(!description.masters.includes(oldMaster));
      assert.equal((await cluster.restart(oldMaster)).role, "replica");
      assert.ok(cluster.description.replicas.includes(oldMaster));
      assert.equal(await client.get("topology:node"), "kept");
    } finally {
      client.disconnect();
    }
  });
});

describe("a sentinel setup from startSentinel()", () => {
  let sentinel;

  before(async () => {
    sentinel = await startSentinel();
  });

  after(async () => {
    await sentinel?.stop();
  });

  it("describes a master, its replica and three sentinels on loopback that name the master", async () => {
    const { master_name: name, master_port: master, replica_port: replica, sentinel_urls: urls } = sentinel.description;
    assert.equal(await role(master), "master");
    assert.equal(await role(replica), "slave");
    assert.equal(urls.length, 3);
    for (const url of urls) {
      assert.match(url, LOOPBACK_URL);
      const port = Number(new URL(url).port);
      const named = await withNode(port, (client) => client.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", name));
      assert.deepEqual(named, ["127.0.0.1", String(master)]);
    }
  });

  it("serves ioredis' sentinel client from the sentinel URLs", async () => {
    const { master_name: name, sentinel_urls: urls } = sentinel.description;
    const sentinels = urls.map((url) => ({ host: "127.0.0.1", port: Number(new URL(url).port) }));
    const client = new Redis({ name, sentinels });
    try {
      await client.set("topology:node", "yes");
      assert.equal(await client.get("topology:node"), "yes");
    } finally {
      client.disconnect();
    }
  });
});
