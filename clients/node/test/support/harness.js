"use strict";

// A real Socket.IO 4 server guarded by the companion, real socket.io-client sockets, and a
// look at Redis' command counters.

const http = require("node:http");
const { Server } = require("socket.io");
const { io: connectClient } = require("socket.io-client");
const { createAuthenticator } = require("../..");

// Starts http + Socket.IO on a free loopback port, with io.use(auth.socketIo()).
async function startServer(authOptions, { maxHeaderSize } = {}) {
  const errors = [];
  const auth = createAuthenticator({ onError: (error) => errors.push(error), ...authOptions });
  const httpServer = http.createServer({ maxHeaderSize });
  const io = new Server(httpServer);
  io.use(auth.socketIo());
  io.on("connection", (socket) => {
    socket.on("whoami", (reply) => reply(socket.data.session));
  });
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${httpServer.address().port}`;
  return {
    url,
    io,
    auth,
    errors,
    async close() {
      io.close();
      await auth.close();
    },
  };
}

// Connects a socket.io-client; resolves to the connected socket, rejects with the connect_error.
function connect(url, { cookie, token, origin, transports = ["websocket"] } = {}) {
  const extraHeaders = {};
  if (cookie !== undefined) extraHeaders.cookie = cookie;
  if (origin !== undefined) extraHeaders.origin = origin;
  const socket = connectClient(url, {
    transports,
    extraHeaders,
    auth: token === undefined ? {} : { token },
    reconnection: false,
    forceNew: true,
    timeout: 5000,
  });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (error) => {
      socket.close();
      reject(error);
    });
  });
}

// Resolves to how long after the call the socket saw "disconnect", and the reason.
function disconnection(socket, withinMs) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still connected after ${withinMs} ms`)), withinMs);
    socket.once("disconnect", (reason) => {
      clearTimeout(timer);
      resolve({ reason, afterMs: performance.now() - started });
    });
  });
}

function whoami(socket) {
  return socket.timeout(2000).emitWithAck("whoami");
}

function cookieFor(token, name = "_validation_token_key") {
  return `_session_id=abc; ${name}=${token}; theme=dark`;
}

// Every command Redis has run, by name, minus INFO (which this helper itself sends) and PING
// (the subscriber's heartbeat, once a second).
async function commandCalls(redis) {
  const calls = {};
  for (const line of (await redis.info("commandstats")).split("\r\n")) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (match && match[1] !== "info" && match[1] !== "ping") calls[match[1]] = Number(match[2]);
  }
  return calls;
}

module.exports = { startServer, connect, disconnection, whoami, cookieFor, commandCalls };
