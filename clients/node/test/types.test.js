"use strict";

// index.d.ts compiles against the real socket.io, express, ws and ioredis declarations.

const assert = require("node:assert/strict");
const { execFile } = require("node:child_process");
const path = require("node:path");
const { it } = require("node:test");

it("index.d.ts fits strict TypeScript Socket.IO 4, Express 4 and ws 8 servers", async () => {
  const tsc = require.resolve("typescript/bin/tsc");
  const project = path.join(__dirname, "types", "tsconfig.json");
  const output = await new Promise((resolve) => {
    execFile(process.execPath, [tsc, "-p", project], (error, stdout, stderr) => resolve({ error, text: stdout + stderr }));
  });
  assert.equal(output.error, null, output.text);
});
