//! The binding: converts Ruby values to core values and back, and maps core errors to Ruby.
//! No logic of its own beyond that.

mod client;
mod convert;
mod errors;
mod json_read;
mod nogvl;

use magnus::{function, prelude::*, Error, RHash, RString, Ruby, TryConvert, Value};

use crate::core::{codec, token};

pub fn init(ruby: &Ruby) -> Result<(), Error> {
    nogvl::init();
    let native = ruby.define_module("SessionBridge")?.define_module("Native")?;
    native.const_set("MAX_DEPTH", codec::MAX_DEPTH)?;
    native.const_set("DEFAULT_MAX_PAYLOAD_BYTES", codec::DEFAULT_MAX_PAYLOAD_BYTES)?;
    native.const_set("TOKEN_LENGTH", token::TOKEN_LEN)?;
    native.define_module_function("dump_json", function!(dump_json, 2))?;
    native.define_module_function("load_json", function!(load_json, 1))?;
    client::init(ruby, native)
}

/// The codec alone, without Redis: what `publish` would store (for benchmarks and debugging).
fn dump_json(ruby: &Ruby, data: Value, max_payload_bytes: Value) -> Result<RString, Error> {
    let max_payload_bytes = usize::try_convert(max_payload_bytes).map_err(|e| errors::settle(ruby, e))?;
    let json = convert::encode(ruby, data, max_payload_bytes)?;
    // The encoder only ever writes UTF-8.
    Ok(ruby.str_new(std::str::from_utf8(&json).unwrap_or_default()))
}

/// The codec alone, without Redis: what `fetch` returns for a stored entry.
fn load_json(ruby: &Ruby, json: Value) -> Result<RHash, Error> {
    let json = RString::try_convert(json).map_err(|e| errors::settle(ruby, e))?;
    // SAFETY: copied at once; the parser allocates Ruby objects (so the GC may run) as it reads.
    let bytes = unsafe { json.as_slice() }.to_vec();
    json_read::parse_entry(ruby, &bytes)
}
