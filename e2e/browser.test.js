"use strict";

// The whole path in a real browser: Debian's headless Chromium signs in through Devise's HTML form
// in spec/dummy (served by Puma), a page of the app opens a websocket to the Node.js companion on
// another port with the HttpOnly cookie, and a sign-out in a second tab drops that socket.
// Nothing is downloaded: puppeteer-core drives /usr/bin/chromium (or CHROMIUM).

const { describe, it, before, after } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const puppeteer = require("puppeteer-core");
const { RedisServer } = require("../clients/node/test/support/redis-server");
const { Child, freePorts, unbundledEnv, httpStatus, within } = require("./support/processes");
const { serveForeignPage } = require("./support/foreign-page");

const REPO = path.resolve(__dirname, "..");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const STORE_KEY = "dummySessions"; // config.session_bridge.store_key in spec/dummy/config/application.rb
const COOKIE_NAME = "_validation_token_key";
const EMAIL = "ada@example.org";
const PASSWORD = "correct horse battery staple";
const STEP_MS = 10_000; // the longest any navigation or wait of a step may take

function onPath(command) {
  return (process.env.PATH || "").split(path.delimiter).some((dir) => fs.existsSync(path.join(dir, command)));
}

function checkPrerequisites() {
  const missing = [
    [fs.existsSync(CHROMIUM), `${CHROMIUM}: Debian's chromium (run bin/setup); this test never downloads a browser`],
    [onPath("puma"), "puma: Debian's puma (run bin/setup)"],
    [fs.existsSync(path.join(REPO, "lib/session_bridge/session_bridge.so")),
      "the native extension: run `bundle exec rake compile`"],
    [fs.existsSync(path.join(REPO, "clients/node/node_modules")), "clients/node/node_modules: run bin/setup"],
  ].filter(([present]) => !present).map(([, what]) => what);
  if (missing.length) throw new Error(`missing ${missing.join("; ")}`);
}

// Each Socket.IO handshake the Node.js server saw: { origin, withCookie }.
function handshakes(socketServer) {
  return socketServer.output.split("\n").filter((line) => line.startsWith('{"handshake"'))
    .map((line) => JSON.parse(line).handshake);
}

// Each step needs the ones before it (one browser, one sign-in): after a failure the rest are skipped.
let failedStep = null;
function step(name, fn) {
  it(name, async (t) => {
    if (failedStep) return t.skip(`"${failedStep}" failed`);
    try {
      return await fn(t);
    } catch (error) {
      failedStep = name;
      throw error;
    }
  });
}

// A tab whose every navigation and wait gives up after STEP_MS.
async function newTab(browser) {
  const tab = await browser.newPage();
  tab.setDefaultTimeout(STEP_MS);
  return tab;
}

function statusOf(page) {
  return page.$eval("#status", (status) => ({ text: status.textContent, at: Number(status.dataset.at) }));
}

describe("a browser signed in through Devise, with a websocket to the Node.js companion", { timeout: 90_000 }, () => {
  let tmp, redis, rails, socketServer, foreignServer, browser;
  let railsOrigin, socketUrl, foreignOrigin;
  let firstTab;

  before(async () => {
    checkPrerequisites();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "session-bridge-e2e-"));
    const [railsPort, socketPort, foreignPort] = await freePorts(3);
    railsOrigin = `http://127.0.0.1:${railsPort}`;
    socketUrl = `http://127.0.0.1:${socketPort}`;
    foreignOrigin = `http://127.0.0.1:${foreignPort}`;

    redis = await RedisServer.start();
    rails = new Child("puma", "puma", ["--no-config", "--bind", `tcp://127.0.0.1:${railsPort}`,
      "--environment", "test", "--threads", "1:4", "e2e/support/dummy.ru"], {
      cwd: REPO,
      env: { ...unbundledEnv(), REDIS_URL: redis.url, SOCKET_URL: socketUrl,
        E2E_DATABASE: path.join(tmp, "e2e.sqlite3"), E2E_EMAIL: EMAIL, E2E_PASSWORD: PASSWORD },
    });
    socketServer = new Child("the Node.js server", process.execPath, ["support/socket-server.js"], {
      cwd: __dirname,
      env: { ...process.env, PORT: String(socketPort), APP_ORIGIN: railsOrigin, REDIS_URL: redis.url,
        STORE_KEY: STORE_KEY, COOKIE_NAME: COOKIE_NAME },
    });
    foreignServer = await serveForeignPage(foreignPort, socketUrl);
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true, // --headless=new, which is what plain --headless means since Chromium 132
      args: ["--no-sandbox", "--disable-background-networking"],
      pipe: true, // DevTools over a pipe: no debugging port
      timeout: 20_000,
      protocolTimeout: 20_000,
    });
    await Promise.all([
      rails.waitUntil(async () => (await httpStatus(`${railsOrigin}/`)) === 200, "answer on /", 30_000),
      socketServer.waitUntil(() => socketServer.output.includes("listening\n"), "listening", 10_000),
    ]);
  });

  // Everything started above is stopped, whatever failed; one failure to stop does not skip the rest.
  after(async () => {
    const failures = [];
    const attempt = async (what, stop) => {
      try {
        await stop();
      } catch (error) {
        failures.push(`${what}: ${error.message}`);
      }
    };
    await attempt("chromium", async () => {
      if (!browser) return;
      await within(browser.close(), 5000, "closing chromium").catch((error) => {
        browser.process()?.kill("SIGKILL");
        throw error;
      });
    });
    await Promise.all([
      attempt("the foreign page", async () => {
        foreignServer?.closeAllConnections();
        await new Promise((resolve) => (foreignServer ? foreignServer.close(resolve) : resolve()));
      }),
      attempt("the Node.js server", () => socketServer?.stop()),
      attempt("puma", () => rails?.stop()),
    ]);
    await attempt("redis-server", () => redis?.cleanup());
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    assert.deepEqual(failures, [], "every process stops");
  });

  step("signs in through Devise's HTML form and comes back to the page it asked for", async () => {
    firstTab = await newTab(browser);
    await firstTab.goto(`${railsOrigin}/bridge`);
    assert.equal(new URL(firstTab.url()).pathname, "/users/sign_in", "a signed-out browser is sent to the form");

    await firstTab.type("#user_email", EMAIL);
    await firstTab.type("#user_password", PASSWORD);
    await Promise.all([firstTab.waitForNavigation(), firstTab.click('input[name="commit"]')]);

    assert.equal(new URL(firstTab.url()).pathname, "/bridge");
  });

  step("connects to the Node.js server on another port with the cookie and shows the session data", async () => {
    await firstTab.waitForFunction(() => document.getElementById("session").textContent !== "");

    const shown = await firstTab.$eval("#session", (session) => JSON.parse(session.textContent));
    const userId = await firstTab.$eval("#user", (user) => Number(user.dataset.userId));
    assert.deepEqual(shown, { user_id: userId, email: EMAIL }, "what Rails published is what Node.js sent back");
    assert.equal((await statusOf(firstTab)).text, "connected");
    assert.deepEqual(handshakes(socketServer).filter(({ origin }) => origin === railsOrigin)[0],
      { origin: railsOrigin, withCookie: true });
  });

  step("keeps the token out of document.cookie: the browser holds it HttpOnly", async () => {
    const held = (await browser.cookies()).find(({ name }) => name === COOKIE_NAME);
    assert.ok(held, `the browser holds ${COOKIE_NAME}`);
    assert.equal(held.httpOnly, true);
    assert.match(held.value, /^[0-9a-f]{32}$/);

    const visible = await firstTab.evaluate(() => document.cookie);
    assert.ok(!visible.includes(COOKIE_NAME), `document.cookie is ${JSON.stringify(visible)}`);
    assert.ok(!visible.includes(held.value), "document.cookie holds no copy of the token");
  });

  step("refuses a page of another origin, although the browser sends it the cookie", async () => {
    const foreignTab = await newTab(browser);
    try {
      await foreignTab.goto(`${foreignOrigin}/`);
      await foreignTab.waitForFunction(() => document.getElementById("status").textContent !== "connecting");

      assert.equal((await statusOf(foreignTab)).text, "refused: unauthorized");
      assert.deepEqual(handshakes(socketServer).filter(({ origin }) => origin === foreignOrigin),
        [{ origin: foreignOrigin, withCookie: true }], "refused for its Origin, not for a missing cookie");
    } finally {
      await foreignTab.close();
    }
  });

  step("drops the first tab's socket within 1 s of a sign-out in a second tab", async (t) => {
    const secondTab = await newTab(browser); // same browser context: the same cookies
    await secondTab.goto(`${railsOrigin}/bridge`);
    assert.equal(new URL(secondTab.url()).pathname, "/bridge", "the second tab is signed in too");

    const signOut = secondTab.waitForResponse((response) => new URL(response.url()).pathname === "/users/sign_out");
    const clickedAt = Date.now();
    await secondTab.click("#sign-out"); // button_to: POST with _method=delete and the CSRF token
    const response = await signOut;
    const respondedAt = Date.now();
    assert.equal(response.status(), 302, "Devise signed the user out");

    await firstTab.waitForFunction(() => document.getElementById("status").dataset.at);
    const { text, at } = await statusOf(firstTab);
    assert.equal(text, "disconnected: io server disconnect", "the Node.js server closed the socket");
    t.diagnostic(`first tab disconnected ${at - clickedAt} ms after the click, ` +
      `${at - respondedAt} ms after the sign-out response reached the test`);
    assert.ok(at >= clickedAt, "the socket lived until the sign-out");
    assert.ok(at - respondedAt <= 1000, `disconnected ${at - respondedAt} ms after the sign-out response`);
    assert.equal((await browser.cookies()).find(({ name }) => name === COOKIE_NAME), undefined,
      "the sign-out deleted the cookie");
  });
});
