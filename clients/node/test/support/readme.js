"use strict";

// The code a user copies from the "Node.js" section of the repository's README, so that the
// tests run exactly what it says.

const fs = require("node:fs");
const path = require("node:path");
const { REPO } = require("./gem");

// The first fenced code block after the line that contains `marker`.
function snippetAfter(marker) {
  const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
  const at = readme.indexOf(marker);
  if (at === -1) throw new Error(`README.md no longer says ${JSON.stringify(marker)}`);
  const match = /```[a-z]*\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!match) throw new Error(`no code block after ${JSON.stringify(marker)} in README.md`);
  return match[1];
}

module.exports = { snippetAfter };
