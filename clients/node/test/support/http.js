"use strict";

// Plain HTTP and ws clients for the Express and ws adapter tests.

const http = require("node:http");
const WebSocket = require("ws");

// Listens on a free loopback port; resolves to the base URL ("http://127.0.0.1:<port>").
async function listen(server) {
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${server.address().port}`;
}

// A GET with the given Cookie and Origin headers; resolves to { status, type, body }, with body
// parsed when it is JSON.
function get(url, { cookie, origin } = {}) {
  const headers = {};
  if (cookie !== undefined) headers.cookie = cookie;
  if (origin !== undefined) headers.origin = origin;
  return new Promise((resolve, reject) => {
    http.get(url, { headers, agent: false }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => { text += chunk; });
      response.on("end", () => {
        const type = response.headers["content-type"] ?? "";
        const body = type.startsWith("application/json") ? JSON.parse(text) : text;
        resolve({ status: response.statusCode, type, body });
      });
    }).on("error", reject);
  });
}

// Opens a ws client; resolves to { ws, greeting } once the server's first message arrives (the
// test servers greet with the session), or rejects with { status, body } when the upgrade is
// answered with an HTTP status instead.
function openWebSocket(url, { cookie, origin } = {}) {
  const headers = {};
  if (cookie !== undefined) headers.cookie = cookie;
  const ws = new WebSocket(url.replace(/^http/, "ws"), { headers, origin });
  return new Promise((resolve, reject) => {
    ws.once("message", (data) => resolve({ ws, greeting: JSON.parse(data) }));
    ws.once("unexpected-response", (_request, response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => { body += chunk; });
      response.on("end", () => {
        ws.terminate();
        reject(Object.assign(new Error(`HTTP ${response.statusCode}`), {
          status: response.statusCode, type: response.headers["content-type"], body,
        }));
      });
    });
    ws.once("error", reject);
    ws.once("close", (code) => reject(new Error(`closed with ${code} before greeting`)));
  });
}

// Resolves to { code, reason, afterMs } once the ws client is closed, or rejects after withinMs.
function closing(ws, withinMs) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still open after ${withinMs} ms`)), withinMs);
    ws.once("close", (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString(), afterMs: performance.now() - started });
    });
  });
}

module.exports = { listen, get, openWebSocket, closing };
