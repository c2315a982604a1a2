"use strict";

// session-bridge: reads the sessions the session_bridge gem publishes in Redis, authenticates
// Socket.IO handshakes, Express requests and ws upgrades with them, and ends the connections
// whose session the gem revokes.

const { createAuthenticator } = require("./lib/authenticator");
const { DEFAULTS } = require("./lib/options");
const { TOKEN_PATTERN, isToken, fieldFor } = require("./lib/token");

module.exports = { createAuthenticator, DEFAULTS, TOKEN_PATTERN, isToken, fieldFor };
