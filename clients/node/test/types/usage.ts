// Compiled (not run) by test/types.test.js: index.d.ts must fit real Socket.IO 4, Express 4, ws 8 and ioredis code.
import { createServer } from "node:http";
import { Server } from "socket.io";
import Redis from "ioredis";
import {
  createAuthenticator, fieldFor, isToken, TOKEN_PATTERN, CLUSTER_TOKEN_PATTERN, DEFAULTS, LookupError, type Session,
} from "session-bridge";

interface MySession {
  user_id: number;
  username?: string;
}

const io = new Server(createServer());
const auth = createAuthenticator<MySession>({
  redis: "redis://127.0.0.1:6379/0",
  storeKey: "mySessionStore",
  cookieName: "_validation_token_key",
  hashTokens: false,
  commandTimeout: 1000,
  origins: ["https://app.example.com"],
  onError: (error) => console.error(error.message),
});
io.use(auth.socketIo());
io.of("/admin").use(auth.socketIo());
io.on("connection", (socket) => {
  const session = socket.data.session as MySession;
  socket.emit("hello", session.user_id);
});

async function handler(cookieHeader: string | undefined): Promise<number | null> {
  const session = await auth.authorize(cookieHeader);
  return session ? session.user_id : null;
}

const shared = createAuthenticator({ redis: new Redis({ lazyConnect: true }), redisOptions: { db: 1 } });
const anything: Promise<Session | null> = shared.authorizeToken("0123456789abcdef0123456789abcdef");
const field: string = fieldFor("0123456789abcdef0123456789abcdef", true);
const ok: boolean = isToken(field) && TOKEN_PATTERN.test(field) && DEFAULTS.hashTokens;
const tracked: number = auth.tracked.sockets + auth.tracked.fields;
void [handler, anything, ok, tracked, auth.close(), shared.settings.origins];

// The cluster layout, on a Redis Cluster (seed URLs or a Redis.Cluster client) and through Sentinel.
const onCluster = createAuthenticator({
  layout: "cluster",
  cluster: ["redis://127.0.0.1:7000", "redis://127.0.0.1:7001"],
  redisOptions: { password: "secret" },
  onError: (error) => {
    if (error instanceof LookupError && error.reason === "unavailable") console.warn("Redis is away");
  },
});
const seeds: readonly string[] | null = onCluster.settings.cluster;
const clusterClient = createAuthenticator({ layout: "cluster", redis: new Redis.Cluster([{ port: 7000 }], { lazyConnect: true }) });
const sentinel = createAuthenticator({
  redis: "rediss://:secret@ignored/2",
  sentinels: ["redis://127.0.0.1:26379", "redis://127.0.0.1:26380"],
  name: "mymaster",
  layout: DEFAULTS.layout,
});
const master: string | null = sentinel.settings.name;
const clusterToken: boolean = isToken("73475cb4.0123456789abcdef0123456789abcdef", "cluster")
  && CLUSTER_TOKEN_PATTERN.test("73475cb4.0123456789abcdef0123456789abcdef");
void [seeds, master, clusterToken, clusterClient.close()];

// Express: app-wide, per route, optional, and beside express-session under another property.
import express from "express";
import { WebSocketServer, WebSocket } from "ws";
import type { SessionRequest } from "session-bridge";

const app = express();
app.use("/api", auth.express());
app.get("/me", auth.express(), (req, res) => {
  const { session } = req as unknown as SessionRequest<MySession>;
  res.json({ user: session?.user_id });
});
app.get("/home", auth.express({ optional: true, property: "sessionBridge" }), (req, res) => {
  const bridged = (req as unknown as SessionRequest<MySession, "sessionBridge">).sessionBridge;
  res.send(bridged ? `hello ${bridged.username}` : "hello");
});
express.Router().use(auth.express({ optional: true }));

// ws: verifyClient + attach, and noServer + handleUpgrade.
const httpServer = createServer();
const guard = auth.ws();
const wss: WebSocketServer = guard.attach(
  new WebSocketServer({ server: httpServer, verifyClient: guard.verifyClient }),
);
wss.on("connection", (ws: WebSocket, req) => {
  ws.send(JSON.stringify((req as SessionRequest<MySession>).session));
});
const quiet = new WebSocketServer({ noServer: true });
httpServer.on("upgrade", (req, socket, head) => {
  void auth.ws({ property: "user" }).handleUpgrade(quiet, req, socket, head);
  void guard.handleUpgrade(quiet, req, socket, head, (ws, request) => quiet.emit("connection", ws, request));
});
