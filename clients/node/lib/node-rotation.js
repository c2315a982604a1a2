"use strict";

// The subscriber's connection on a Redis Cluster. Classic PUBLISH reaches every node of a
// cluster, so one connection to any node hears every revocation. (ioredis' Cluster subscribes
// through a private connection whose reconnections it does not announce, so nothing could look
// the tracked fields up again after a gap, and which ignores connectTimeout.) This is an ioredis
// Connector: the subscriber stays one plain connection, with the subscriber's options, 'ready'
// events and heartbeat, and each time it (re)connects it goes to the next node known, so a node
// that died is left for another.

const net = require("node:net");
const tls = require("node:tls");
const { AbstractConnector } = require("ioredis");

// A Connector class for ioredis' `Connector` option. knownNodes() lists { host, port } of the
// nodes to try, in order.
function nodeRotation(knownNodes) {
  let turn = 0;
  return class NodeRotationConnector extends AbstractConnector {
    constructor(options) {
      super(options.disconnectTimeout);
      this.options = options;
    }

    connect() {
      this.connecting = true;
      const nodes = knownNodes();
      const node = nodes.length > 0 ? nodes[turn % nodes.length] : null;
      turn += 1;
      // As ioredis' own connector: the stream is made on the next tick, unless disconnected first.
      return new Promise((resolve, reject) => {
        process.nextTick(() => {
          if (!this.connecting) {
            reject(new Error("Connection is closed."));
            return;
          }
          resolve(node ? this.#open(node) : this.#failed(new Error("no Redis Cluster node is known yet")));
        });
      });
    }

    #open({ host, port }) {
      this.options.host = host; // what ioredis' messages name
      this.options.port = port;
      let stream;
      try {
        stream = this.options.tls ? tls.connect({ host, port, ...this.options.tls }) : net.createConnection({ host, port });
      } catch (error) {
        return this.#failed(error);
      }
      stream.once("error", (error) => {
        this.firstError = error;
      });
      this.stream = stream;
      return stream;
    }

    // A stream that failed already: ioredis reports the error and retries (a rejected connect
    // would end the connection for good).
    #failed(error) {
      const stream = new net.Socket();
      stream.destroy();
      this.firstError = error;
      this.stream = stream;
      return stream;
    }
  };
}

// The distinct { host, port } among addresses, in order.
function uniqueNodes(addresses) {
  const nodes = new Map();
  for (const { host, port } of addresses) {
    if (!nodes.has(`${host}:${port}`)) nodes.set(`${host}:${port}`, { host, port });
  }
  return [...nodes.values()];
}

module.exports = { nodeRotation, uniqueNodes };
