"use strict";

// The fixtures in <repo>/contract/, which spec/contract_spec.rb checks against the gem.

const fs = require("node:fs");
const path = require("node:path");
const { REPO } = require("./gem");

function contract(name) {
  return JSON.parse(fs.readFileSync(path.join(REPO, "contract", `${name}.json`), "utf8"));
}

module.exports = { contract };
