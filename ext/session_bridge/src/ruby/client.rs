//! `SessionBridge::Native::Client`: a configured store, called by the Ruby layer with
//! positional arguments. Each method is one native call and one Redis round trip (`sweep`: one
//! per batch).

use std::time::Duration;

use magnus::{function, method, prelude::*, Error, RHash, RModule, RString, Ruby, TryConvert, Value};

use super::{convert, errors, json_read, nogvl};
use crate::core::connection::{Settings, Timeouts};
use crate::core::store::{check_user_id, Layout, Lease, Policy, Store};
use crate::core::{self, token};

#[magnus::wrap(class = "SessionBridge::Native::Client", free_immediately, size)]
struct Client {
    store: Store,
    max_payload_bytes: usize,
}

pub fn init(ruby: &Ruby, native: RModule) -> Result<(), Error> {
    let class = native.define_class("Client", ruby.class_object())?;
    class.define_singleton_method("new", function!(Client::new, 3))?;
    class.define_method("publish", method!(Client::publish, 3))?;
    class.define_method("fetch", method!(Client::fetch, 1))?;
    class.define_method("touch", method!(Client::touch, 1))?;
    class.define_method("revoke", method!(Client::revoke, 1))?;
    class.define_method("revoke_user", method!(Client::revoke_user, 1))?;
    class.define_method("sweep", method!(Client::sweep, 1))?;
    class.define_method("revocation_channel", method!(Client::revocation_channel, 0))?;
    class.define_method("inspect", method!(Client::inspect, 0))?;
    Ok(())
}

impl Client {
    /// `options`: connect_timeout, read_timeout, write_timeout, ttl (seconds; ttl may be nil),
    /// pool_size, max_payload_bytes, sweep_batch (Integers), hash_tokens (boolean). The Ruby
    /// layer has already checked their types; this checks their ranges.
    fn new(ruby: &Ruby, url: Value, store_key: Value, options: Value) -> Result<Client, Error> {
        let url: String = convert(ruby, url)?;
        let store_key: String = convert(ruby, store_key)?;
        let options: RHash = convert(ruby, options)?;
        let fail = |e: core::Error| errors::to_ruby(ruby, e);
        let configuration = |m: String| fail(core::Error::Configuration(m));
        let timeouts = Timeouts {
            connect: seconds(option(ruby, options, "connect_timeout")?)
                .map_err(|m| configuration(format!("connect_timeout {m}")))?,
            read: seconds(option(ruby, options, "read_timeout")?)
                .map_err(|m| configuration(format!("read_timeout {m}")))?,
            write: seconds(option(ruby, options, "write_timeout")?)
                .map_err(|m| configuration(format!("write_timeout {m}")))?,
        };
        let ttl = match option::<Option<f64>>(ruby, options, "ttl")? {
            None => None,
            Some(value) => Some(seconds(value).map_err(|m| configuration(format!("ttl {m}")))?),
        };
        let policy = Policy {
            ttl,
            hash_tokens: option(ruby, options, "hash_tokens")?,
            sweep_batch: option(ruby, options, "sweep_batch")?,
        };
        let pool_size: usize = option(ruby, options, "pool_size")?;
        let max_payload_bytes: usize = option(ruby, options, "max_payload_bytes")?;
        if pool_size == 0 {
            return Err(configuration("pool_size must be at least 1".into()));
        }
        if max_payload_bytes < 2 {
            return Err(configuration("max_payload_bytes must be at least 2 (the size of {})".into()));
        }
        let ca_file: Option<String> = option(ruby, options, "ssl_ca_file")?;
        let settings = Settings::from_url(&url, timeouts, ca_file.as_deref()).map_err(fail)?;
        let layout = Layout::hash(&store_key).map_err(fail)?;
        Ok(Client { store: Store::new(settings, layout, policy, pool_size), max_payload_bytes })
    }

    fn publish(
        ruby: &Ruby,
        rb_self: &Self,
        data: Value,
        session_id: Value,
        user_id: Value,
    ) -> Result<RString, Error> {
        let user_id = if user_id.is_nil() { None } else { Some(user_id_argument(ruby, user_id)?) };
        let session_id: RString = convert(ruby, session_id)?;
        // SAFETY: copied out at once.
        let session_id = unsafe { session_id.as_slice() }.to_vec();
        let json = convert::encode(ruby, data, rb_self.max_payload_bytes)?;
        let token = rb_self.with_lease(ruby, move |lease| {
            let token = token::mint(&session_id)?;
            lease.publish(&token, &json, user_id.as_deref())?;
            Ok(token)
        })?;
        Ok(ruby.str_new(&token))
    }

    fn fetch(ruby: &Ruby, rb_self: &Self, token: Value) -> Result<Option<RHash>, Error> {
        let Some(token) = well_formed_token(token) else { return Ok(None) };
        let Some(entry) = rb_self.with_lease(ruby, move |lease| lease.fetch(&token))? else {
            return Ok(None);
        };
        // The limit the writer keeps holds for readers too (contract/read_limits.json).
        if entry.len() > rb_self.max_payload_bytes {
            let message = format!(
                "the entry stored in Redis is larger than max_payload_bytes ({} bytes)",
                rb_self.max_payload_bytes
            );
            return Err(errors::to_ruby(ruby, core::Error::Serialization(message)));
        }
        json_read::parse_entry(ruby, &entry).map(Some)
    }

    fn touch(ruby: &Ruby, rb_self: &Self, token: Value) -> Result<bool, Error> {
        let Some(token) = well_formed_token(token) else {
            return Ok(false);
        };
        rb_self.with_lease(ruby, move |lease| lease.touch(&token))
    }

    fn revoke(ruby: &Ruby, rb_self: &Self, token: Value) -> Result<bool, Error> {
        let Some(token) = well_formed_token(token) else {
            return Ok(false);
        };
        rb_self.with_lease(ruby, move |lease| lease.revoke(&token))
    }

    fn revoke_user(ruby: &Ruby, rb_self: &Self, user_id: Value) -> Result<u64, Error> {
        let user_id = user_id_argument(ruby, user_id)?;
        rb_self.with_lease(ruby, move |lease| lease.revoke_user(&user_id))
    }

    fn sweep(ruby: &Ruby, rb_self: &Self, batch: Value) -> Result<u64, Error> {
        let batch: u32 = convert(ruby, batch)?;
        rb_self.with_lease(ruby, move |lease| lease.sweep(batch))
    }

    fn revocation_channel(&self) -> String {
        self.store.layout().revocation_channel()
    }

    fn inspect(&self) -> String {
        format!(
            "#<SessionBridge::Native::Client redis={} store_key={:?}>",
            self.store.settings().address(),
            self.store.layout().store_key()
        )
    }

    /// Checks a connection out, runs `operation` without the GVL, checks it back in, lets Ruby
    /// deliver a pending interrupt, and maps the outcome to Ruby. The only place the binding
    /// does I/O.
    fn with_lease<R>(
        &self,
        ruby: &Ruby,
        operation: impl FnOnce(&mut Lease) -> Result<R, core::Error>,
    ) -> Result<R, Error> {
        let mut lease = self.store.checkout().map_err(|e| errors::to_ruby(ruby, e))?;
        let interrupt = lease.interrupt();
        let outcome = nogvl::without_gvl(ruby, &interrupt, || operation(&mut lease));
        self.store.checkin(lease);
        drop(interrupt);
        nogvl::deliver_interrupts(ruby)?;
        match outcome? {
            Ok(result) => result.map_err(|e| errors::to_ruby(ruby, e)),
            Err(_panic) => {
                Err(errors::internal(ruby, "session_bridge's native code panicked; this is a bug"))
            }
        }
    }
}

/// A user id as the core accepts it: a UTF-8, US-ASCII or binary String of valid UTF-8 that
/// passes `check_user_id`. The bytes of another encoding (UTF-16) could spell another user's id.
fn user_id_argument(ruby: &Ruby, value: Value) -> Result<String, Error> {
    let invalid = |m: &str| errors::to_ruby(ruby, core::Error::Argument(m.into()));
    let string = RString::from_value(value).ok_or_else(|| invalid("user_id must be a String"))?;
    if !string.is_utf8_compatible_encoding() && string.enc_get() != ruby.ascii8bit_encindex() {
        return Err(invalid("user_id must be a UTF-8 String"));
    }
    // SAFETY: copied out before any other call into Ruby.
    let bytes = unsafe { string.as_slice() }.to_vec();
    let user_id = String::from_utf8(bytes).map_err(|_| invalid("user_id must be valid UTF-8"))?;
    check_user_id(&user_id).map_err(|e| errors::to_ruby(ruby, e))?;
    Ok(user_id)
}

/// A Ruby value as `T`; a TypeError or RangeError is built at once (see errors.rs).
fn convert<T: TryConvert>(ruby: &Ruby, value: Value) -> Result<T, Error> {
    T::try_convert(value).map_err(|e| errors::settle(ruby, e))
}

fn option<T: TryConvert>(ruby: &Ruby, options: RHash, name: &str) -> Result<T, Error> {
    options.fetch::<_, T>(ruby.to_symbol(name)).map_err(|e| errors::settle(ruby, e))
}

/// The token as a Rust string when `value` is a String of token shape; anything else is `None`.
fn well_formed_token(value: Value) -> Option<String> {
    let string = RString::from_value(value)?;
    // SAFETY: checked and copied before any other call into Ruby.
    let bytes = unsafe { string.as_slice() };
    token::is_well_formed(bytes).then(|| String::from_utf8_lossy(bytes).into_owned())
}

fn seconds(value: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("must be a positive number of seconds, got {value}"))
}
