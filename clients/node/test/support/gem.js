"use strict";

// Drives the session_bridge gem from Node: one `ruby -I<repo>/lib` process per test file that
// evaluates Ruby sent as JSON lines and answers with the value (or the error) as JSON.

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const readline = require("node:readline");

const REPO = path.resolve(__dirname, "../../../..");
const LIB = path.join(REPO, "lib");

const DRIVER = `
$stdout.sync = true
require "json"
require "session_bridge"
SessionBridge.configure { |config| config.redis_url = ENV.fetch("REDIS_URL") }
$stdin.each_line do |line|
  reply = begin
    { "value" => TOPLEVEL_BINDING.eval(JSON.parse(line).fetch("code")) }
  rescue Exception => e
    { "error" => "#{e.class}: #{e.message}" }
  end
  $stdout.puts(JSON.generate(reply))
end
`;

class Gem {
  static start(redisUrl) {
    if (!fs.existsSync(path.join(LIB, "session_bridge", "session_bridge.so"))) {
      throw new Error("the native extension is not built: run `bundle exec rake compile` at the repository root");
    }
    return new Gem(redisUrl);
  }

  constructor(redisUrl) {
    this.child = spawn("ruby", ["-I", LIB, "-e", DRIVER], {
      env: { ...process.env, REDIS_URL: redisUrl },
      stdio: ["pipe", "pipe", "inherit"],
    });
    this.waiting = [];
    this.exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.once("exit", (code) => {
      for (const { reject } of this.waiting.splice(0)) reject(new Error(`ruby exited with ${code}`));
    });
    readline.createInterface({ input: this.child.stdout }).on("line", (line) => {
      const { resolve, reject } = this.waiting.shift();
      const reply = JSON.parse(line);
      if ("error" in reply) reject(new Error(`Ruby raised ${reply.error}`));
      else resolve(reply.value);
    });
  }

  // Evaluates Ruby with the gem loaded; resolves to the value, converted through JSON.
  eval(code) {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.child.stdin.write(`${JSON.stringify({ code })}\n`);
    });
  }

  // SessionBridge.publish(data, user_id:): data is Ruby source; resolves to the token.
  publish(rubyData, { userId } = {}) {
    const user = userId === undefined ? "" : `, user_id: ${JSON.stringify(userId)}`;
    return this.eval(`SessionBridge.publish(${rubyData}${user})`);
  }

  configure(settings) {
    const lines = Object.entries(settings).map(([name, value]) => `c.${name} = ${value}`);
    return this.eval(`SessionBridge.configure { |c| ${lines.join("; ")} }; nil`);
  }

  async close() {
    this.child.stdin.end();
    await this.exited;
  }
}

module.exports = { Gem, REPO };
