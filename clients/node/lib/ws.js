"use strict";

// For the ws package: authenticates the HTTP upgrade (verifyClient, or handleUpgrade for a
// noServer WebSocketServer), sets req.session for the "connection" handler, and closes the
// connection with 4001 when its session is revoked or expires.

const { STATUS_CODES } = require("node:http");
const { refusalResponse, resolveAdapterOptions, claimProperty } = require("./http");

// The close code a revoked or expired connection gets; the reason says which (REASONS).
const CLOSE_CODE = 4001;
// A client that does not answer the close frame within this is cut off: until then ws still
// emits its messages.
const CLOSE_GRACE_MS = 1000;

function webSocketGuard({ settings, revocations, admit }, options) {
  const { property } = resolveAdapterOptions("ws", options, {});
  const servers = new Set(); // the WebSocketServers attach() watches
  const accepted = new WeakMap(); // upgrade request -> handle, from verifyClient to "connection"

  // The handle revocations end: closes the ws connection once it exists (see link).
  function connectionHandle() {
    let ws = null;
    const handle = {
      get open() {
        return ws !== null && ws.readyState === ws.OPEN;
      },
      end(reason) {
        ws.close(CLOSE_CODE, reason);
        setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
      },
      // The connection opened: revoked meanwhile, it is closed at once.
      link(webSocket) {
        ws = webSocket;
        const reason = revocations.revokedReason(handle);
        if (reason) handle.end(reason);
      },
    };
    return handle;
  }

  // Resolves to { handle } (accepted: req[property] is set, the connection is tracked until its
  // socket closes), { refused }, or { gone: true } when the client left during the lookup.
  async function authenticate(req, socket) {
    claimProperty(req, property);
    const handle = connectionHandle();
    const result = await admit(req.headers, { handle });
    if (result.refused) return { refused: result.refused };
    if (socket.destroyed) {
      revocations.untrack(result.field, handle);
      return { gone: true };
    }
    req[property] = result.session;
    socket.once("close", () => revocations.untrack(result.field, handle));
    revocations.accepted(result.field, result.found);
    return { handle };
  }

  // new WebSocketServer({ server, verifyClient }), then attach(wss). Two parameters: ws calls
  // it asynchronously.
  function verifyClient(info, callback) {
    const { req } = info;
    if (servers.size === 0) {
      settings.onError(new Error("session-bridge: ws() verifyClient refused an upgrade: "
        + "call attach(wss) with the WebSocketServer, or revoked connections would stay open"));
      callback(false, 500);
      return;
    }
    authenticate(req, req.socket).then((outcome) => {
      if (outcome.handle) {
        accepted.set(req, outcome.handle);
        callback(true);
      } else {
        const { status, headers, body } = refusalResponse(outcome.refused ?? "unauthorized");
        callback(false, status, body, headers);
      }
    }, (error) => {
      settings.onError(error);
      callback(false, 500);
    });
  }

  // Lets verifyClient's accepted connections be closed on revocation. Returns wss.
  function attach(wss) {
    if (servers.has(wss)) return wss;
    servers.add(wss);
    // Prepended, so that a connection revoked while it opened is closed before the app sees it.
    wss.prependListener("connection", (ws, req) => {
      const handle = accepted.get(req);
      if (!handle) return;
      accepted.delete(req);
      handle.link(ws);
    });
    return wss;
  }

  // server.on("upgrade", (req, socket, head) => guard.handleUpgrade(wss, req, socket, head)),
  // with wss = new WebSocketServer({ noServer: true }). Refuses with 401 or 503, or completes
  // the upgrade and emits "connection" on wss (or calls callback(ws, req) instead). Never rejects.
  async function handleUpgrade(wss, req, socket, head, callback) {
    socket.on("error", ignore); // a client resetting during the lookup must not crash the server
    let outcome;
    try {
      outcome = await authenticate(req, socket);
    } catch (error) {
      settings.onError(error);
      writeResponse(socket, 500);
      return;
    }
    if (outcome.gone) return;
    if (outcome.refused) {
      const { status, headers, body } = refusalResponse(outcome.refused);
      writeResponse(socket, status, headers, body);
      return;
    }
    socket.off("error", ignore); // ws listens from here on
    try {
      wss.handleUpgrade(req, socket, head, (ws) => {
        outcome.handle.link(ws);
        if (callback) callback(ws, req);
        else wss.emit("connection", ws, req);
      });
    } catch (error) {
      settings.onError(error);
      socket.destroy();
    }
  }

  return { verifyClient, attach, handleUpgrade };
}

// An HTTP response on the raw upgrade socket, then the socket is closed (as ws answers a refused
// upgrade).
function writeResponse(socket, status, headers = { "Content-Length": "0" }, body = "") {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status]}`, "Connection: close"];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  socket.once("finish", () => socket.destroy());
  socket.end(`${lines.join("\r\n")}\r\n\r\n${body}`);
}

function ignore() {}

module.exports = { webSocketGuard, CLOSE_CODE };
