//! Where sessions live in Redis, and the pool of connections used to reach them.
//!
//! Every operation is one command, so one round trip. The binding checks a [`Lease`] out with
//! the GVL held, runs the operation without it, and checks the lease back in with the GVL held
//! again: the pool's lock is therefore never held across `fork`.

use std::sync::{Arc, Mutex};

use redis::Value;

use super::connection::{Connection, Interrupt, Settings};
use super::Error;

/// How entries are laid out in Redis. The single seam for other layouts (one key per session
/// for Redis Cluster is the planned second one).
#[derive(Debug, Clone)]
pub enum Layout {
    /// The original design: `HSET <store_key> <token> <json>` in one hash.
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
        Ok(Layout::Hash {
            store_key: store_key.to_owned(),
        })
    }

    fn publish_command(&self, token: &str, json: &[u8]) -> Vec<u8> {
        match self {
            Layout::Hash { store_key } => redis::cmd("HSET")
                .arg(store_key)
                .arg(token)
                .arg(json)
                .get_packed_command(),
        }
    }

    fn fetch_command(&self, token: &str) -> Vec<u8> {
        match self {
            Layout::Hash { store_key } => redis::cmd("HGET")
                .arg(store_key)
                .arg(token)
                .get_packed_command(),
        }
    }

    fn revoke_command(&self, token: &str) -> Vec<u8> {
        match self {
            Layout::Hash { store_key } => redis::cmd("HDEL")
                .arg(store_key)
                .arg(token)
                .get_packed_command(),
        }
    }
}

struct Pool {
    pid: u32,
    idle: Vec<Connection>,
}

struct Shared {
    settings: Settings,
    layout: Layout,
    pool_size: usize,
    pool: Mutex<Pool>,
}

/// A configured store: settings, layout and a small pool of idle connections.
#[derive(Clone)]
pub struct Store {
    shared: Arc<Shared>,
}

impl Store {
    pub fn new(settings: Settings, layout: Layout, pool_size: usize) -> Store {
        Store {
            shared: Arc::new(Shared {
                settings,
                layout,
                pool_size,
                pool: Mutex::new(Pool {
                    pid: std::process::id(),
                    idle: Vec::new(),
                }),
            }),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.shared.settings
    }

    pub fn layout(&self) -> &Layout {
        &self.shared.layout
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
        Ok(Lease {
            store: self.clone(),
            connection: pool.idle.pop(),
            discarded: Vec::new(),
            interrupt: Interrupt::new(),
            pid,
        })
    }

    /// Returns a healthy connection to the pool; a broken one is closed here.
    pub fn checkin(&self, mut lease: Lease) {
        lease.discarded.clear();
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
            Error::Connection(
                "the connection pool is unusable after a crash in another thread".into(),
            )
        })
    }
}

/// One operation's hold on a connection. Its methods do the network I/O.
pub struct Lease {
    store: Store,
    connection: Option<Connection>,
    /// Broken connections, closed at checkin rather than mid-call, so an interrupt racing with
    /// the call never shuts down a reused file descriptor.
    discarded: Vec<Connection>,
    interrupt: Arc<Interrupt>,
    pid: u32,
}

impl Lease {
    /// The handle Ruby's unblocking function triggers.
    pub fn interrupt(&self) -> Arc<Interrupt> {
        Arc::clone(&self.interrupt)
    }

    /// `HSET`: stores `json` under `token`.
    pub fn publish(&mut self, token: &str, json: &[u8]) -> Result<(), Error> {
        let command = self.store.layout().publish_command(token, json);
        match self.run(&command)? {
            Value::Int(_) => Ok(()),
            other => Err(unexpected("HSET", &other)),
        }
    }

    /// `HGET`: the stored bytes, or `None`.
    pub fn fetch(&mut self, token: &str) -> Result<Option<Vec<u8>>, Error> {
        let command = self.store.layout().fetch_command(token);
        match self.run(&command)? {
            Value::BulkString(bytes) => Ok(Some(bytes)),
            Value::Nil => Ok(None),
            other => Err(unexpected("HGET", &other)),
        }
    }

    /// `HDEL`: true when an entry was removed.
    pub fn revoke(&mut self, token: &str) -> Result<bool, Error> {
        let command = self.store.layout().revoke_command(token);
        match self.run(&command)? {
            Value::Int(removed) => Ok(removed > 0),
            other => Err(unexpected("HDEL", &other)),
        }
    }

    /// Sends one command. A pooled connection that turns out to be dead (Redis restarted, idle
    /// connection closed) is replaced once; that is safe because every command here is
    /// idempotent for its token. A timeout is never retried.
    fn run(&mut self, command: &[u8]) -> Result<Value, Error> {
        let reused = self.connection.is_some();
        match self.run_once(command) {
            Err(Error::Connection(_)) if reused && !self.interrupt.is_triggered() => {
                self.run_once(command)
            }
            result => result,
        }
    }

    fn run_once(&mut self, command: &[u8]) -> Result<Value, Error> {
        let mut connection = match self.connection.take() {
            Some(connection) => {
                connection.watch_with(&self.interrupt)?;
                connection
            }
            None => Connection::open(self.store.settings(), &self.interrupt)?,
        };
        let result = connection.request(command, &self.interrupt);
        match &result {
            Ok(_) | Err(Error::Command { .. }) => self.connection = Some(connection),
            Err(_) => self.discarded.push(connection),
        }
        result
    }
}

fn unexpected(command: &str, reply: &Value) -> Error {
    let kind = match reply {
        Value::SimpleString(_) | Value::Okay => "a status",
        Value::Array(_) => "an array",
        Value::BulkString(_) => "a string",
        Value::Int(_) => "an integer",
        _ => "an unexpected reply",
    };
    Error::Connection(format!(
        "Redis answered {command} with {kind}; is this a Redis server?"
    ))
}
