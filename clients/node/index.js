"use strict";

// session-bridge: reads the sessions the session_bridge gem publishes in Redis, authenticates
// Socket.IO handshakes and Express requests with them, and disconnects the sockets whose
// session the gem revokes.

const { createAuthenticator } = require("./lib/authenticator");
const { DEFAULTS } = require("./lib/options");
const { TOKEN_PATTERN, isToken, fieldFor } = require("./lib/token");

module.exports = { createAuthenticator, DEFAULTS, TOKEN_PATTERN, isToken, fieldFor };
