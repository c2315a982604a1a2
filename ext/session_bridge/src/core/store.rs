//! Where sessions live in Redis, and the pool of connections used to reach them.
//!
//! Every write is one Lua script (`EVALSHA`, falling back to `EVAL` once when the server does
//! not know it yet), so it is atomic and one round trip; `fetch` is one pipelined round trip. The binding checks a [`Lease`] out with
//! the GVL held, runs the operation without it, and checks the lease back in with the GVL held
//! again: the pool's lock is therefore never held across `fork`.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use redis::Value;
use sha2::{Digest, Sha256};

use super::connection::{Connection, Interrupt, Settings};
use super::Error;

/// How entries are laid out in Redis. The single seam for other layouts (one key per session
/// for Redis Cluster is the planned second one).
#[derive(Debug, Clone)]
pub enum Layout {
    /// The original design: `HSET <store_key> <token> <json>` in one hash, which any server
    /// can read with `HGET`. Beside it: `<store_key>:expires` (sorted set, field -> expiry in ms),
    /// `<store_key>:user:<id>` (hash of the user's fields, pruned as the user signs in), and
    /// removed fields are published on `<store_key>:revoked`.
    Hash { store_key: String },
}

impl Layout {
    /// Checks a store key at configure time.
    pub fn hash(store_key: &str) -> Result<Layout, Error> {
        let acceptable = !store_key.is_empty()
            && store_key.len() <= 256
            && store_key.bytes().all(|b| b.is_ascii_graphic());
        if !acceptable {
            return Err(Error::Configuration(
                "store_key must be 1 to 256 printable ASCII characters without spaces".into(),
            ));
        }
        Ok(Layout::Hash { store_key: store_key.to_owned() })
    }

    pub fn store_key(&self) -> &str {
        match self {
            Layout::Hash { store_key } => store_key,
        }
    }

    /// The channel on which every removed entry's field is published.
    pub fn revocation_channel(&self) -> String {
        format!("{}:revoked", self.store_key())
    }

    /// KEYS then the two shared ARGV of every script (see scripts/prelude.lua).
    fn script_arguments(&self) -> [String; 4] {
        let key = self.store_key();
        [key.to_owned(), format!("{key}:expires"), format!("{key}:user:"), self.revocation_channel()]
    }
}

/// What happens to entries over time, and how tokens are stored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Lifetime of an entry; `None` keeps it until revoked.
    pub ttl: Option<Duration>,
    /// Store SHA-256 of the token instead of the token itself.
    pub hash_tokens: bool,
    /// How many expired entries each publish removes on the way.
    pub sweep_batch: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { ttl: Some(Duration::from_secs(24 * 3600)), hash_tokens: false, sweep_batch: 1 }
    }
}

/// Longest user id accepted for the per-user index.
pub const MAX_USER_ID_BYTES: usize = 128;

/// Checks a user id before it becomes part of a key name.
pub fn check_user_id(user_id: &str) -> Result<(), Error> {
    if user_id.is_empty() || user_id.len() > MAX_USER_ID_BYTES || user_id.chars().any(char::is_control) {
        return Err(Error::Argument(format!(
            "user_id must be 1 to {MAX_USER_ID_BYTES} bytes without control characters"
        )));
    }
    Ok(())
}

struct Script {
    source: String,
    sha: String,
}

impl Script {
    fn new(body: &str) -> Script {
        let source = format!("{}\n{}", include_str!("scripts/prelude.lua"), body);
        let sha = redis::Script::new(&source).get_hash().to_owned();
        Script { source, sha }
    }
}

struct Scripts {
    publish: Script,
    touch: Script,
    revoke: Script,
    revoke_user: Script,
    sweep: Script,
}

fn scripts() -> &'static Scripts {
    static SCRIPTS: OnceLock<Scripts> = OnceLock::new();
    SCRIPTS.get_or_init(|| Scripts {
        publish: Script::new(include_str!("scripts/publish.lua")),
        touch: Script::new(include_str!("scripts/touch.lua")),
        revoke: Script::new(include_str!("scripts/revoke.lua")),
        revoke_user: Script::new(include_str!("scripts/revoke_user.lua")),
        sweep: Script::new(include_str!("scripts/sweep.lua")),
    })
}

struct Pool {
    pid: u32,
    idle: Vec<Connection>,
}

struct Shared {
    settings: Settings,
    layout: Layout,
    arguments: [String; 4],
    policy: Policy,
    pool_size: usize,
    pool: Mutex<Pool>,
}

/// A configured store: settings, layout, policy and a small pool of idle connections.
#[derive(Clone)]
pub struct Store {
    shared: Arc<Shared>,
}

impl Store {
    pub fn new(settings: Settings, layout: Layout, policy: Policy, pool_size: usize) -> Store {
        Store {
            shared: Arc::new(Shared {
                settings,
                arguments: layout.script_arguments(),
                layout,
                policy,
                pool_size,
                pool: Mutex::new(Pool { pid: std::process::id(), idle: Vec::new() }),
            }),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.shared.settings
    }

    pub fn layout(&self) -> &Layout {
        &self.shared.layout
    }

    pub fn policy(&self) -> &Policy {
        &self.shared.policy
    }

    /// The hash field for a token: the token itself, or its SHA-256 with `hash_tokens`.
    pub fn field(&self, token: &str) -> String {
        if self.shared.policy.hash_tokens {
            super::token::to_hex(&Sha256::digest(token.as_bytes()))
        } else {
            token.to_owned()
        }
    }

    /// Takes an idle connection if there is one; a new one is opened lazily by the operation.
    /// After a fork the parent's connections are dropped unused, so the child opens its own.
    pub fn checkout(&self) -> Result<Lease, Error> {
        let mut pool = self.lock_pool()?;
        let pid = std::process::id();
        if pool.pid != pid {
            pool.idle.clear();
            pool.pid = pid;
        }
        Ok(Lease { store: self.clone(), connection: pool.idle.pop(), interrupt: Interrupt::new(), pid })
    }

    /// Returns a healthy connection to the pool; a broken or interrupted one is closed here.
    pub fn checkin(&self, mut lease: Lease) {
        let Some(connection) = lease.connection.take() else {
            return;
        };
        if lease.interrupt.is_triggered() {
            return;
        }
        if let Ok(mut pool) = self.shared.pool.lock() {
            if pool.pid == lease.pid && pool.idle.len() < self.shared.pool_size {
                pool.idle.push(connection);
            }
        }
    }

    fn lock_pool(&self) -> Result<std::sync::MutexGuard<'_, Pool>, Error> {
        self.shared.pool.lock().map_err(|_| {
            Error::Connection("the connection pool is unusable after a crash in another thread".into())
        })
    }
}

/// One operation's hold on a connection. Its methods do the network I/O.
pub struct Lease {
    store: Store,
    /// The connection in use; a broken one is dropped at once (the interrupt keeps its own
    /// duplicate of each socket it may shut down, so no descriptor is reused under it).
    connection: Option<Connection>,
    interrupt: Arc<Interrupt>,
    pid: u32,
}

impl Lease {
    /// The handle Ruby's unblocking function triggers.
    pub fn interrupt(&self) -> Arc<Interrupt> {
        Arc::clone(&self.interrupt)
    }

    /// Stores `json` under the token, with the policy's lifetime, indexed under `user_id` if given.
    pub fn publish(&mut self, token: &str, json: &[u8], user_id: Option<&str>) -> Result<(), Error> {
        let policy = *self.store.policy();
        let field = self.store.field(token);
        let ttl_ms = policy.ttl.map_or(0, |ttl| ttl.as_millis().max(1));
        let user = user_id.unwrap_or("");
        let reply = self.eval(
            &scripts().publish,
            &[
                field.as_bytes(),
                json,
                ttl_ms.to_string().as_bytes(),
                user.as_bytes(),
                policy.sweep_batch.to_string().as_bytes(),
            ],
        )?;
        expect_int("publish", reply).map(|_| ())
    }

    /// The stored bytes, or `None` when absent or expired. A read needs no atomic script:
    /// `HGET`, `ZSCORE` and `TIME` go in one pipelined round trip (cheaper for Redis than Lua);
    /// an expired entry is left for the next sweep.
    pub fn fetch(&mut self, token: &str) -> Result<Option<Vec<u8>>, Error> {
        let field = self.store.field(token);
        let arguments = &self.store.shared.arguments;
        let mut command = Vec::with_capacity(128);
        pack(&mut command, &[b"HGET", arguments[0].as_bytes(), field.as_bytes()]);
        pack(&mut command, &[b"ZSCORE", arguments[1].as_bytes(), field.as_bytes()]);
        pack(&mut command, &[b"TIME"]);
        let mut replies = self.run(&command, 3)?.into_iter();
        let (Some(entry), Some(expires), Some(time)) = (replies.next(), replies.next(), replies.next())
        else {
            return Err(Error::Connection("Redis sent too few replies".into()));
        };
        let entry = match entry {
            Value::BulkString(bytes) => bytes,
            Value::Nil => return Ok(None),
            other => return Err(unexpected("HGET", &other)),
        };
        match expires {
            Value::Nil => Ok(Some(entry)),
            Value::BulkString(score) => {
                // The gem only writes finite scores: `inf` or `-inf` was planted, and is refused
                // (as the Node companion refuses it) rather than read as "never" or "already".
                let expires_ms = parse_number(&score).filter(|ms| ms.is_finite()).ok_or_else(|| {
                    Error::Serialization(
                        "the expiry stored in Redis for the entry is not a finite number".into(),
                    )
                })?;
                Ok((expires_ms > redis_time_ms(&time)? as f64).then_some(entry))
            }
            other => Err(unexpected("ZSCORE", &other)),
        }
    }

    /// Restarts a live entry's lifetime; false when it is absent or expired (or never expires).
    pub fn touch(&mut self, token: &str) -> Result<bool, Error> {
        let Some(ttl) = self.store.policy().ttl else {
            return Ok(false);
        };
        let field = self.store.field(token);
        let ttl_ms = ttl.as_millis().max(1).to_string();
        let reply = self.eval(&scripts().touch, &[field.as_bytes(), ttl_ms.as_bytes()])?;
        expect_int("touch", reply).map(|n| n > 0)
    }

    /// Removes the entry; true when there was one.
    pub fn revoke(&mut self, token: &str) -> Result<bool, Error> {
        let field = self.store.field(token);
        let reply = self.eval(&scripts().revoke, &[field.as_bytes()])?;
        expect_int("revoke", reply).map(|n| n > 0)
    }

    /// Removes every entry published for `user_id`, atomically; returns how many were live.
    pub fn revoke_user(&mut self, user_id: &str) -> Result<u64, Error> {
        check_user_id(user_id)?;
        let reply = self.eval(&scripts().revoke_user, &[user_id.as_bytes()])?;
        expect_int("revoke_user", reply).map(|n| n.max(0) as u64)
    }

    /// Removes expired entries in batches of `batch`; returns how many.
    pub fn sweep(&mut self, batch: u32) -> Result<u64, Error> {
        let batch = batch.max(1);
        let mut total = 0;
        loop {
            let reply = self.eval(&scripts().sweep, &[batch.to_string().as_bytes()])?;
            let removed = expect_int("sweep", reply)?.max(0) as u64;
            total += removed;
            if removed < u64::from(batch) || self.interrupt.is_triggered() {
                return Ok(total);
            }
        }
    }

    /// `EVALSHA`, or `EVAL` when the server does not have the script cached.
    fn eval(&mut self, script: &Script, args: &[&[u8]]) -> Result<Value, Error> {
        let replies = match self.run(&self.command("EVALSHA", &script.sha, args), 1) {
            Err(Error::Command { code, .. }) if code == "NOSCRIPT" => {
                self.run(&self.command("EVAL", &script.source, args), 1)
            }
            result => result,
        }?;
        replies.into_iter().next().ok_or_else(|| Error::Connection("Redis sent no reply".into()))
    }

    fn command(&self, verb: &str, script: &str, args: &[&[u8]]) -> Vec<u8> {
        let [store, expires, user_prefix, channel] = &self.store.shared.arguments;
        let mut parts: Vec<&[u8]> = vec![verb.as_bytes(), script.as_bytes(), b"2"];
        parts.extend([store, expires, user_prefix, channel].map(|part| part.as_bytes()));
        parts.extend_from_slice(args);
        let mut command = Vec::with_capacity(64 + parts.iter().map(|part| part.len() + 16).sum::<usize>());
        pack(&mut command, &parts);
        command
    }

    /// Sends one batch of commands and reads its replies. Nothing is ever sent twice once it may
    /// have reached Redis: a pooled connection that Redis has closed (a restart, an idle
    /// timeout) is noticed before sending, and only a write that failed on a pooled connection
    /// (so Redis holds at most part of the command, which it drops with the connection) is
    /// repeated once on a new one.
    fn run(&mut self, command: &[u8], replies: usize) -> Result<Vec<Value>, Error> {
        let (mut connection, pooled) = self.connection_for_call()?;
        match connection.send(command, &self.interrupt) {
            Ok(()) => {}
            Err(Error::Connection(_)) if pooled && !self.interrupt.is_triggered() => {
                connection = Connection::open(self.store.settings(), &self.interrupt)?;
                connection.send(command, &self.interrupt)?;
            }
            Err(e) => return Err(e),
        }
        let result = connection.receive(replies, &self.interrupt);
        if matches!(result, Ok(_) | Err(Error::Command { .. })) {
            self.connection = Some(connection);
        }
        result
    }

    /// The lease's pooled connection when it is still open and quiet, else a new one; true
    /// when pooled.
    fn connection_for_call(&mut self) -> Result<(Connection, bool), Error> {
        match self.connection.take() {
            Some(connection) if connection.is_idle_and_open() => {
                connection.watch_with(&self.interrupt)?;
                Ok((connection, true))
            }
            _ => Ok((Connection::open(self.store.settings(), &self.interrupt)?, false)),
        }
    }
}

/// Appends one command in RESP (an array of bulk strings) to `out`: what `redis::cmd` packs,
/// without its allocation per argument.
fn pack(out: &mut Vec<u8>, parts: &[&[u8]]) {
    let mut number = itoa::Buffer::new();
    out.push(b'*');
    out.extend_from_slice(number.format(parts.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for part in parts {
        out.push(b'$');
        out.extend_from_slice(number.format(part.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(part);
        out.extend_from_slice(b"\r\n");
    }
}

/// Milliseconds since the epoch from a `TIME` reply.
fn redis_time_ms(reply: &Value) -> Result<u64, Error> {
    if let Value::Array(parts) = reply {
        if let [Value::BulkString(seconds), Value::BulkString(micros)] = parts.as_slice() {
            let seconds = parse_number(seconds).map(|s| s as u64);
            let micros = parse_number(micros).map(|m| m as u64);
            if let (Some(seconds), Some(micros)) = (seconds, micros) {
                return Ok(seconds * 1000 + micros / 1000);
            }
        }
    }
    Err(unexpected("TIME", reply))
}

fn parse_number(bytes: &[u8]) -> Option<f64> {
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

fn expect_int(operation: &str, reply: Value) -> Result<i64, Error> {
    match reply {
        Value::Int(n) => Ok(n),
        other => Err(unexpected(operation, &other)),
    }
}

fn unexpected(operation: &str, reply: &Value) -> Error {
    let kind = match reply {
        Value::SimpleString(_) | Value::Okay => "a status",
        Value::Array(_) => "an array",
        Value::BulkString(_) => "a string",
        Value::Int(_) => "an integer",
        _ => "an unexpected reply",
    };
    Error::Connection(format!("Redis answered {operation} with {kind}; is this a Redis server?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_script_compiles_into_one_source_with_the_prelude() {
        let s = scripts();
        for script in [&s.publish, &s.touch, &s.revoke, &s.revoke_user, &s.sweep] {
            assert!(script.source.contains("local function sweep(now, limit)"));
            assert_eq!(script.sha.len(), 40);
        }
    }

    #[test]
    fn packs_commands_exactly_as_the_redis_crate_does() {
        let mut ours = Vec::new();
        pack(&mut ours, &[b"HSET", b"mySessionStore", b"", b"{\"a\":\"\r\n\"}"]);
        let theirs =
            redis::cmd("HSET").arg("mySessionStore").arg("").arg("{\"a\":\"\r\n\"}").get_packed_command();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn user_ids_are_checked_before_they_become_key_names() {
        assert!(check_user_id("42").is_ok());
        assert!(check_user_id("6f9619ff-8b86-d011-b42d-00cf4fc964ff").is_ok());
        for bad in ["", "a\r\nb", "\0", &"x".repeat(129)] {
            assert!(matches!(check_user_id(bad), Err(Error::Argument(_))), "{bad:?}");
        }
    }

    #[test]
    fn store_keys_are_checked() {
        assert!(Layout::hash("mySessionStore").is_ok());
        for bad in ["", "my store", "a\r\nFLUSHALL", &"k".repeat(257)] {
            assert!(matches!(Layout::hash(bad), Err(Error::Configuration(_))), "{bad:?}");
        }
    }
}
