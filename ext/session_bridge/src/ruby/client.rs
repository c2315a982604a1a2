//! `SessionBridge::Native::Client`: a configured store, called by the Ruby layer with
//! positional arguments. Each method is one native call and one Redis round trip.

use std::time::Duration;

use magnus::{function, method, prelude::*, Error, RHash, RModule, RString, Ruby, Value};

use super::{convert, errors, nogvl};
use crate::core::{
    self, codec, connection::Settings, connection::Timeouts, store::Layout, store::Lease,
    store::Store, token,
};

#[magnus::wrap(class = "SessionBridge::Native::Client", free_immediately, size)]
struct Client {
    store: Store,
    max_payload_bytes: usize,
}

pub fn init(ruby: &Ruby, native: RModule) -> Result<(), Error> {
    let class = native.define_class("Client", ruby.class_object())?;
    class.define_singleton_method("new", function!(Client::new, 5))?;
    class.define_method("publish", method!(Client::publish, 2))?;
    class.define_method("fetch", method!(Client::fetch, 1))?;
    class.define_method("revoke", method!(Client::revoke, 1))?;
    class.define_method("inspect", method!(Client::inspect, 0))?;
    Ok(())
}

impl Client {
    fn new(
        ruby: &Ruby,
        url: String,
        store_key: String,
        (connect_timeout, read_timeout, write_timeout): (f64, f64, f64),
        pool_size: usize,
        max_payload_bytes: usize,
    ) -> Result<Client, Error> {
        let configuration = |m: String| errors::to_ruby(ruby, core::Error::Configuration(m));
        let timeouts = Timeouts {
            connect: seconds("connect_timeout", connect_timeout).map_err(configuration)?,
            read: seconds("read_timeout", read_timeout).map_err(configuration)?,
            write: seconds("write_timeout", write_timeout).map_err(configuration)?,
        };
        if pool_size == 0 {
            return Err(configuration("pool_size must be at least 1".into()));
        }
        if max_payload_bytes < 2 {
            return Err(configuration(
                "max_payload_bytes must be at least 2 (the size of {})".into(),
            ));
        }
        let settings = Settings::from_url(&url, timeouts).map_err(|e| errors::to_ruby(ruby, e))?;
        let layout = Layout::hash(&store_key).map_err(|e| errors::to_ruby(ruby, e))?;
        Ok(Client {
            store: Store::new(settings, layout, pool_size),
            max_payload_bytes,
        })
    }

    fn publish(
        ruby: &Ruby,
        rb_self: &Self,
        data: Value,
        session_id: RString,
    ) -> Result<RString, Error> {
        let json = convert::encode(data, rb_self.max_payload_bytes)
            .map_err(|e| errors::to_ruby(ruby, e.into()))?;
        // SAFETY: copied out at once.
        let session_id = unsafe { session_id.as_slice() }.to_vec();
        let token = rb_self.with_lease(ruby, move |lease| {
            let token = token::mint(&session_id)?;
            lease.publish(&token, &json)?;
            Ok(token)
        })?;
        Ok(ruby.str_new(&token))
    }

    fn fetch(ruby: &Ruby, rb_self: &Self, token: Value) -> Result<Option<RHash>, Error> {
        let Some(token) = well_formed_token(token) else {
            return Ok(None);
        };
        let entry = rb_self.with_lease(ruby, move |lease| {
            lease
                .fetch(&token)?
                .map(|bytes| {
                    codec::decode(&bytes).map_err(|e| core::Error::Serialization(e.to_string()))
                })
                .transpose()
        })?;
        entry
            .map(|map| convert::to_ruby_hash(ruby, &map))
            .transpose()
    }

    fn revoke(ruby: &Ruby, rb_self: &Self, token: Value) -> Result<bool, Error> {
        let Some(token) = well_formed_token(token) else {
            return Ok(false);
        };
        rb_self.with_lease(ruby, move |lease| lease.revoke(&token))
    }

    fn inspect(&self) -> String {
        let store_key = match self.store.layout() {
            Layout::Hash { store_key } => store_key,
        };
        format!(
            "#<SessionBridge::Native::Client redis={} store_key={:?}>",
            self.store.settings().address(),
            store_key
        )
    }

    /// Checks a connection out, runs `operation` without the GVL, checks it back in, and maps
    /// the outcome to Ruby. The only place the binding does I/O.
    fn with_lease<R>(
        &self,
        ruby: &Ruby,
        operation: impl FnOnce(&mut Lease) -> Result<R, core::Error>,
    ) -> Result<R, Error> {
        let mut lease = self
            .store
            .checkout()
            .map_err(|e| errors::to_ruby(ruby, e))?;
        let interrupt = lease.interrupt();
        let outcome = nogvl::without_gvl(ruby, &interrupt, || operation(&mut lease));
        self.store.checkin(lease);
        match outcome? {
            Some(result) => result.map_err(|e| errors::to_ruby(ruby, e)),
            None => Err(errors::to_ruby(
                ruby,
                core::Error::Connection(
                    "the call to Redis was interrupted before it started".into(),
                ),
            )),
        }
    }
}

/// The token as a Rust string when `value` is a String of token shape; anything else is `None`.
fn well_formed_token(value: Value) -> Option<String> {
    let string = RString::from_value(value)?;
    // SAFETY: checked and copied before any other call into Ruby.
    let bytes = unsafe { string.as_slice() };
    token::is_well_formed(bytes).then(|| String::from_utf8_lossy(bytes).into_owned())
}

fn seconds(name: &str, value: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{name} must be a positive number of seconds, got {value}"))
}
