"use strict";

// A master SIGKILLed under live sockets, on a Redis Cluster and through Sentinel: lookups fail
// with an error within their deadline while it is down (never hang), work again once a replica is
// promoted, and the sockets whose sessions were revoked during the failover are disconnected once
// the companion is back, while the others stay. The measured times are reported as diagnostics.

const assert = require("node:assert/strict");
const { after, before, describe, it } = require("node:test");
const Redis = require("ioredis");
const { LookupError } = require("..");
const { delay } = require("./support/redis-server");
const { startCluster, startSentinel } = require("./support/topology");
const { startServer, connect, disconnection, whoami, cookieFor } = require("./support/harness");
const { clusterToken, keysFor, publishEntry, revokeEntry, keySlot } = require("./support/cluster-layout");

const TIMEOUT_MS = 500;
const MARGIN_MS = 300; // timers and a busy 2-core machine
const BACK_WITHIN_MS = 10_000; // after the promotion

function ownerOf(description, slot) {
  return description.shards.find(({ slots }) => slots.some(([first, last]) => slot >= first && slot <= last)).master;
}

// Tokens of users 0, 1, ... whose entries land on the given master (`onMaster`) or not.
function tokensWhere(description, count, predicate) {
  const tokens = [];
  for (let userId = 1; tokens.length < count; userId += 1) {
    const token = clusterToken(userId * 7919);
    if (predicate(ownerOf(description, keySlot(keysFor(token).entry)))) tokens.push(token);
  }
  return tokens;
}

// Looks `token` up every 100 ms from `since` until a lookup finds it; resolves to every lookup's
// { at (ms since `since`), ms (how long it took), found, error }.
async function probeUntilFound(auth, token, errors, since) {
  const probes = [];
  for (;;) {
    const started = performance.now();
    const seen = errors.length;
    const found = await auth.authorizeToken(token);
    const error = errors.slice(seen).find((reported) => reported instanceof LookupError);
    probes.push({ at: started - since, ms: performance.now() - started, found: found !== null, error });
    if (found) return probes;
    if (performance.now() - since > 60_000) throw new Error("lookups never worked again");
    await delay(100);
  }
}

// What the probes say: every failed lookup was refused in time with a LookupError "unavailable".
function checkOutage(probes) {
  const failed = probes.filter((probe) => !probe.found);
  assert.ok(failed.length > 0, "some lookups ran while the master was down");
  for (const { ms, error } of failed) {
    assert.ok(ms < TIMEOUT_MS + MARGIN_MS, `a lookup took ${Math.round(ms)} ms to fail`);
    assert.ok(error instanceof LookupError && error.reason === "unavailable", String(error));
  }
  return { failed: failed.length, slowestFailureMs: Math.round(Math.max(...failed.map(({ ms }) => ms))) };
}

// Resolves to the ms (since `since`) at which each socket was disconnected.
function disconnections(sockets, since) {
  return Promise.all(sockets.map((socket) => disconnection(socket, 30_000)
    .then(({ reason }) => ({ reason, at: Math.round(performance.now() - since) }))));
}

async function connectAll(url, tokens) {
  const sockets = [];
  for (const token of tokens) sockets.push(await connect(url, { cookie: cookieFor(token) }));
  return sockets;
}

describe("a failover on a Redis Cluster", () => {
  let topology;
  let admin;
  let guarded;

  before(async () => {
    topology = await startCluster();
    admin = new Redis.Cluster([topology.description.seed_urls[0]]);
  });

  after(async () => {
    await guarded?.close();
    admin?.disconnect();
    await topology?.stop();
  });

  it("refuses lookups in time while the master is down, then disconnects exactly the sessions revoked meanwhile", async (t) => {
    const { description } = topology;
    const [victim, survivor] = description.masters;
    const onVictim = tokensWhere(description, 4, (master) => master === victim);
    const elsewhere = tokensWhere(description, 2, (master) => master !== victim);
    for (const token of [...onVictim, ...elsewhere]) await publishEntry(admin, token, `{"tag":"${token.slice(0, 8)}"}`);
    // The first seed is the victim: the subscriber connects there first, so the kill cuts it off too.
    guarded = await startServer({
      layout: "cluster", commandTimeout: TIMEOUT_MS,
      cluster: [`redis://127.0.0.1:${victim}`, `redis://127.0.0.1:${survivor}`],
    });
    const [revoked, kept] = [onVictim.slice(0, 2), [...onVictim.slice(2), ...elsewhere]];
    const revokedSockets = await connectAll(guarded.url, revoked);
    const keptSockets = await connectAll(guarded.url, kept);
    const victimNode = new Redis({ port: victim });
    const [, subscribedOnVictim] = await victimNode.pubsub("NUMSUB", "mySessionStore:revoked");
    victimNode.disconnect();
    assert.equal(subscribedOnVictim, 1, "the companion's subscriber is on the master to be killed");

    await topology.killMaster(victim);
    const killedAt = performance.now();
    const ended = disconnections(revokedSockets, killedAt);
    const probes = probeUntilFound(guarded.auth, kept[0], guarded.errors, killedAt);
    const elsewhereWorks = guarded.auth.authorizeToken(elsewhere[0]);
    const { elapsed } = await topology.waitForFailover(victim);
    const promotedAt = performance.now() - killedAt;
    const promoted = ownerOf(topology.description, keySlot(keysFor(revoked[0]).entry));

    // Revoked as the gem does, on the new master, while the companion may still be reconnecting.
    const newMaster = new Redis({ port: promoted });
    const listening = (await Promise.all(topology.description.nodes.filter((port) => port !== victim).map(async (port) => {
      const node = new Redis({ port });
      const [, count] = await node.pubsub("NUMSUB", "mySessionStore:revoked");
      node.disconnect();
      return count;
    }))).reduce((sum, count) => sum + count, 0);
    const revokedAt = performance.now() - killedAt;
    for (const token of revoked) await revokeEntry(newMaster, token);
    newMaster.disconnect();

    const outage = checkOutage(await probes);
    const backAt = Math.round((await probes).at(-1).at);
    assert.ok(backAt - promotedAt < BACK_WITHIN_MS, `lookups worked again ${backAt - promotedAt} ms after the promotion`);
    assert.ok(await elsewhereWorks, "an entry on another master was found during the failover");
    const times = await ended;
    for (const { reason } of times) assert.equal(reason, "io server disconnect");
    await delay(1500); // rechecks of the kept sessions have run by now
    for (const socket of keptSockets) assert.ok(socket.connected, "a session not revoked stays");
    assert.deepEqual(await whoami(keptSockets[0]), { tag: kept[0].slice(0, 8) });
    t.diagnostic(`Redis Cluster: promoted ${Math.round(elapsed * 1000)} ms after the SIGKILL; ${outage.failed} lookups `
      + `refused meanwhile, the slowest in ${outage.slowestFailureMs} ms (deadline ${TIMEOUT_MS}); lookups back `
      + `${backAt} ms after the kill; revoked at ${Math.round(revokedAt)} ms with ${listening} subscriber(s) listening, `
      + `sockets disconnected at ${times.map(({ at }) => at).join(", ")} ms`);
    for (const socket of [...revokedSockets, ...keptSockets]) socket.close();
  });
});

describe("a stalled master on a Redis Cluster", () => {
  let topology;
  let admin;
  let guarded;
  let stopped = null; // the pid of the SIGSTOPped master, until SIGCONT

  before(async () => {
    topology = await startCluster();
    admin = new Redis.Cluster([topology.description.seed_urls[0]]);
  });

  after(async () => {
    if (stopped) process.kill(stopped, "SIGCONT");
    await guarded?.close();
    admin?.disconnect();
    await topology?.stop();
  });

  // SIGSTOP: the master keeps its sockets open and answers nothing, as a hung host does.
  it("refuses lookups in time while the master hangs, drops its silent connection, and finds the entry after the promotion", async (t) => {
    const { description } = topology;
    const victim = description.masters[1];
    const [token] = tokensWhere(description, 1, (master) => master === victim);
    await publishEntry(admin, token, '{"user_id":93}', { userId: 93 });
    guarded = await startServer({ layout: "cluster", commandTimeout: TIMEOUT_MS, cluster: description.seed_urls });
    assert.deepEqual(await guarded.auth.authorizeToken(token), { user_id: 93 });
    const node = new Redis({ port: victim });
    const pid = Number(/process_id:(\d+)/.exec(await node.info("server"))[1]);
    node.disconnect();

    process.kill(pid, "SIGSTOP");
    stopped = pid;
    const stoppedAt = performance.now();
    const probes = await probeUntilFound(guarded.auth, token, guarded.errors, stoppedAt);

    const outage = checkOutage(probes);
    const backAt = Math.round(probes.at(-1).at);
    assert.ok(guarded.errors.some((e) => e.message === `Redis lookup connection to 127.0.0.1:${victim}: `
      + `no answer to PING within ${TIMEOUT_MS} ms, reconnecting`), "the silent connection was dropped");
    t.diagnostic(`a SIGSTOPped master: ${outage.failed} lookups refused, the slowest in ${outage.slowestFailureMs} ms `
      + `(deadline ${TIMEOUT_MS}); found again ${backAt} ms after the SIGSTOP`);
  });
});

describe("a failover through Sentinel", () => {
  let topology;
  let guarded;

  // A setup of its own for each test: sentinels wait 2 x failover-timeout before failing the same
  // master over again.
  async function startOver() {
    await guarded?.close();
    await topology?.stop();
    topology = await startSentinel();
  }

  after(async () => {
    await guarded?.close();
    await topology?.stop();
  });

  for (const layout of ["hash", "cluster"]) {
    it(`refuses lookups in time while the master is down, then disconnects exactly the sessions revoked meanwhile (${layout} layout)`, async (t) => {
      await startOver();
      const { sentinel_urls: sentinels, master_name: name, master_port: oldMaster } = topology.description;
      const master = new Redis({ port: oldMaster });
      const tokens = [];
      for (let i = 0; i < 4; i += 1) {
        const token = layout === "hash" ? clusterToken(i).slice(9) : clusterToken(i);
        if (layout === "hash") await master.hset("mySessionStore", token, `{"n":${i}}`);
        else await publishEntry(master, token, `{"n":${i}}`);
        tokens.push(token);
      }
      await master.wait(1, 1000); // on the replica too, or the promotion would lose them
      master.disconnect();
      guarded = await startServer({ sentinels, name, layout, commandTimeout: TIMEOUT_MS });
      const [revoked, kept] = [tokens.slice(0, 2), tokens.slice(2)];
      const revokedSockets = await connectAll(guarded.url, revoked);
      const keptSockets = await connectAll(guarded.url, kept);

      await topology.killMaster(oldMaster);
      const killedAt = performance.now();
      const ended = disconnections(revokedSockets, killedAt);
      const probes = probeUntilFound(guarded.auth, kept[0], guarded.errors, killedAt);
      const { elapsed } = await topology.waitForFailover(oldMaster);
      const promotedAt = performance.now() - killedAt;

      const newMaster = new Redis({ port: topology.description.master_port });
      const [, listening] = await newMaster.pubsub("NUMSUB", "mySessionStore:revoked");
      const revokedAt = performance.now() - killedAt;
      for (const token of revoked) {
        if (layout === "hash") {
          await newMaster.hdel("mySessionStore", token);
          await newMaster.publish("mySessionStore:revoked", token);
        } else {
          await revokeEntry(newMaster, token);
        }
      }
      newMaster.disconnect();

      const outage = checkOutage(await probes);
      const backAt = Math.round((await probes).at(-1).at);
      assert.ok(backAt - promotedAt < BACK_WITHIN_MS, `lookups worked again ${backAt - promotedAt} ms after the promotion`);
      const times = await ended;
      for (const { reason } of times) assert.equal(reason, "io server disconnect");
      await delay(1500);
      for (const socket of keptSockets) assert.ok(socket.connected, "a session not revoked stays");
      assert.deepEqual(await whoami(keptSockets[0]), { n: 2 });
      t.diagnostic(`Sentinel (${layout} layout): promoted ${Math.round(elapsed * 1000)} ms after the SIGKILL; `
        + `${outage.failed} lookups refused meanwhile, the slowest in ${outage.slowestFailureMs} ms (deadline `
        + `${TIMEOUT_MS}); lookups back ${backAt} ms after the kill; revoked at ${Math.round(revokedAt)} ms with `
        + `${listening} subscriber(s) listening, sockets disconnected at ${times.map(({ at }) => at).join(", ")} ms`);
      for (const socket of [...revokedSockets, ...keptSockets]) socket.close();
    });
  }
});
