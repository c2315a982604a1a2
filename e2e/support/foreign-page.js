"use strict";

// A page of another origin (another port of the same host, so the browser does send it the
// SameSite=Lax cookie) that tries to open a websocket to the Node.js server with credentials.
// Only the websocket transport: CORS never guards a websocket, the companion's Origin check must.

const http = require("node:http");

function foreignPage(socketUrl) {
  return `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>another origin</title>
<script src="${socketUrl}/socket.io/socket.io.js"></script></head>
<body>
<p id="status">connecting</p>
<script>
  const socket = io(${JSON.stringify(socketUrl)},
    { withCredentials: true, transports: ["websocket"], reconnection: false });
  const status = document.getElementById("status");
  socket.on("connect", () => { status.textContent = "connected"; });
  socket.on("connect_error", (error) => { status.textContent = "refused: " + error.message; });
</script>
</body>
</html>
`;
}

// Resolves to the listening http.Server.
function serveForeignPage(port, socketUrl) {
  const html = foreignPage(socketUrl);
  const server = http.createServer((request, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end(html);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

module.exports = { serveForeignPage };
