"use strict";

// Socket.IO 4 middleware: authenticates the handshake, sets socket.data.session, and
// disconnects the socket when its session is revoked or expires.

function socketIoMiddleware({ settings, revocations, admit, tokenFromCookie, isToken }) {
  // A non-browser client may send { auth: { token } }; otherwise the cookie is read.
  function tokenFromHandshake(handshake) {
    const auth = handshake.auth;
    if (auth !== null && typeof auth === "object" && Object.hasOwn(auth, "token")) {
      return isToken(auth.token) ? auth.token : null;
    }
    return tokenFromCookie(handshake.headers.cookie);
  }

  // Resolves to undefined (accepted: socket.data.session is set) or to the Error to refuse with.
  async function checkHandshake(socket) {
    const handle = {
      get open() {
        return socket.connected;
      },
      end() {
        socket.disconnect(true);
      },
    };
    const { handshake } = socket;
    const result = await admit(handshake.headers, { handle, token: tokenFromHandshake(handshake) });
    if (result.refused) return refusal(result.refused);
    socket.data.session = result.session;
    // A socket that never connects (the client left, or a later middleware refused it) gets
    // no "disconnect" event; its transport closing is the last word. The transport may carry
    // many sockets (namespaces, reconnections) over its life, so each removes its listener.
    const conn = socket.conn;
    const forget = () => {
      socket.off("disconnect", forget);
      conn?.off("close", forget);
      revocations.untrack(result.field, handle);
    };
    if (conn && conn.readyState !== "open") {
      forget();
      return undefined;
    }
    socket.once("disconnect", forget);
    conn?.once("close", forget);
    revocations.accepted(result.field, result.found);
    return undefined;
  }

  return (socket, next) => {
    checkHandshake(socket).then(next, (error) => {
      settings.onError(error);
      next(refusal());
    });
  };
}

// Every refusal reads "unauthorized"; data.reason "unavailable" tells a client to retry later.
function refusal(reason) {
  const error = new Error("unauthorized");
  if (reason === "unavailable") error.data = { reason };
  return error;
}

module.exports = { socketIoMiddleware };
