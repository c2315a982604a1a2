"use strict";

// A Socket.IO client standing in for a browser tab: it connects to the Node.js server with the
// Cookie header a browser would send, and prints each event as one JSON line for examples/demo.rb.
const { io } = require("socket.io-client");

const [url, cookie] = process.argv.slice(2);
const say = (event) => console.log(JSON.stringify(event));
const socket = io(url, { transports: ["websocket"], extraHeaders: { cookie }, reconnection: false });

socket.on("hello", (session) => say({ event: "hello", session }));
socket.on("connect_error", (error) => {
  say({ event: "refused", message: error.message });
  process.exit(0);
});
socket.on("disconnect", (reason) => {
  say({ event: "disconnected", reason });
  process.exit(0);
});
