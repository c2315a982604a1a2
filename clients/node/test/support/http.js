"use strict";

// A plain HTTP client for the Express adapter tests.

const http = require("node:http");

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
        resolve({ status: response.statusCode, type, body: type.startsWith("application/json") ? JSON.parse(text) : text });
      });
    }).on("error", reject);
  });
}

module.exports = { listen, get };
