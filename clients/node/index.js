"use strict";

// session-bridge: reads the sessions the session_bridge gem publishes in Redis, authenticates
// Socket.IO handshakes, Express requests and ws upgrades with them, and ends the connections
// whose session the gem revokes.

const { createAuthenticator } = require("./lib/authenticator");
const { DEFAULTS } = require("./lib/options");
const { fieldFor } = require("./lib/token");
const { LookupError } = require("./lib/errors");
const hashLayout = require("./lib/layouts/hash");
const clusterLayout = require("./lib/layouts/cluster");

const TOKEN_PATTERN = hashLayout.TOKEN_PATTERN;
const CLUSTER_TOKEN_PATTERN = clusterLayout.TOKEN_PATTERN;

// Whether a value is a token of the layout ("hash", the default, or "cluster").
function isToken(value, layout = "hash") {
  return (layout === "cluster" ? clusterLayout : hashLayout).isToken(value);
}

module.exports = {
  createAuthenticator, DEFAULTS, TOKEN_PATTERN, CLUSTER_TOKEN_PATTERN, isToken, fieldFor, LookupError,
};
