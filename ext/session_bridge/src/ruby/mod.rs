//! The binding: converts Ruby values to core values and back, and maps core errors to Ruby.
//! No logic of its own beyond that.

mod client;
mod convert;
mod errors;
mod nogvl;

use magnus::{prelude::*, Error, Ruby};

use crate::core::{codec, token};

pub fn init(ruby: &Ruby) -> Result<(), Error> {
    let native = ruby
        .define_module("SessionBridge")?
        .define_module("Native")?;
    native.const_set("MAX_DEPTH", codec::MAX_DEPTH)?;
    native.const_set(
        "DEFAULT_MAX_PAYLOAD_BYTES",
        codec::DEFAULT_MAX_PAYLOAD_BYTES,
    )?;
    native.const_set("TOKEN_LENGTH", token::TOKEN_LEN)?;
    client::init(ruby, native)
}
