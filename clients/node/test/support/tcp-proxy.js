"use strict";

// A loopback TCP proxy in front of a port. blackHole() makes every flow open at that moment go
// silent in both directions without closing it (no FIN, no RST), as a NAT reset or a failover
// does; connections made afterwards are forwarded as usual.

const net = require("node:net");

class TcpProxy {
  static async start(targetPort) {
    const proxy = new TcpProxy(targetPort);
    await new Promise((resolve) => proxy.server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  constructor(targetPort) {
    this.flows = new Set();
    this.server = net.createServer((client) => {
      const upstream = net.connect({ host: "127.0.0.1", port: targetPort });
      const flow = { client, upstream, silent: false };
      this.flows.add(flow);
      client.on("data", (chunk) => flow.silent || upstream.write(chunk));
      upstream.on("data", (chunk) => flow.silent || client.write(chunk));
      const end = () => {
        this.flows.delete(flow);
        client.destroy();
        upstream.destroy();
      };
      // A silent flow stays open even when one side goes: the other side must find out alone.
      for (const socket of [client, upstream]) {
        socket.on("error", () => {});
        socket.on("close", () => flow.silent || end());
      }
    });
  }

  get port() {
    return this.server.address().port;
  }

  get url() {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  // Drops, from now on, every byte of the flows open now, in both directions.
  blackHole() {
    for (const flow of this.flows) flow.silent = true;
  }

  async close() {
    for (const { client, upstream } of this.flows) {
      client.destroy();
      upstream.destroy();
    }
    this.flows.clear();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

module.exports = { TcpProxy };
