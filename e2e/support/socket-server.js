"use strict";

// The README's server.js, as browser.test.js runs it: http + Socket.IO on PORT, guarded by the
// companion (cookie lookup in Redis, Origin check against APP_ORIGIN), a hello with the session
// data to every accepted socket. Prints "listening" once it accepts connections.

const http = require("node:http");
const { Server } = require("socket.io");
const { createAuthenticator } = require("../../clients/node");

const APP_ORIGIN = process.env.APP_ORIGIN;
const COOKIE_NAME = process.env.COOKIE_NAME || "_validation_token_key";

const auth = createAuthenticator({
  redis: process.env.REDIS_URL,
  storeKey: process.env.STORE_KEY,
  cookieName: COOKIE_NAME,
  origins: [APP_ORIGIN],
});

const httpServer = http.createServer();
const io = new Server(httpServer, { cors: { origin: APP_ORIGIN, credentials: true } });

// One line per handshake, so the test can tell a refused Origin from a missing cookie (never the token).
io.use((socket, next) => {
  const { origin, cookie = "" } = socket.handshake.headers;
  const withCookie = cookie.split(";").some((pair) => pair.trim().startsWith(`${COOKIE_NAME}=`));
  console.log(JSON.stringify({ handshake: { origin, withCookie } }));
  next();
});
io.use(auth.socketIo()); // sets socket.data.session, or refuses with "unauthorized"

io.on("connection", (socket) => {
  socket.emit("hello", socket.data.session);
});

httpServer.listen(Number(process.env.PORT), "127.0.0.1", () => console.log("listening"));

process.once("SIGTERM", async () => {
  io.close();
  await auth.close(); // closes both Redis connections
  // Not in the README's server: engine.io waits up to 30 s for the next poll of a polling client
  // it is closing, and a tab that navigated away never sends one.
  process.exit(0);
});
