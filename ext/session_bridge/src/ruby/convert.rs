//! Ruby values to JSON bytes, through the core's streaming [`Encoder`]. Stored JSON is read back
//! in `json_read.rs`.

use super::errors;
use crate::core::codec::{EncodeError, EncodeErrorKind, Encoder};
use magnus::{
    prelude::*,
    r_hash::ForEach,
    rb_sys::{AsRawValue, FromRawValue},
    Error, Fixnum, Float, RArray, RBignum, RHash, RString, Ruby, Symbol, Value,
};

/// The chain of Hashes and Arrays being walked, kept on the stack (so the GC sees them) and
/// used to tell a cycle from deep nesting.
struct Ancestors<'a> {
    container: Value,
    parent: Option<&'a Ancestors<'a>>,
}

impl Ancestors<'_> {
    fn contains(&self, value: Value) -> bool {
        let mut node = Some(self);
        while let Some(ancestor) = node {
            if ancestor.container.as_raw() == value.as_raw() {
                return true;
            }
            node = ancestor.parent;
        }
        false
    }
}

/// Why the walk stopped: data JSON cannot hold, or an error Ruby raised (an interrupt delivered
/// during the walk, NoMemoryError), which is passed on unchanged.
enum Failure {
    Encode(EncodeError),
    Ruby(Error),
}

impl From<EncodeError> for Failure {
    fn from(e: EncodeError) -> Self {
        Failure::Encode(e)
    }
}

impl Failure {
    fn map_encode(self, f: impl FnOnce(EncodeError) -> EncodeError) -> Failure {
        match self {
            Failure::Encode(e) => Failure::Encode(f(e)),
            ruby => ruby,
        }
    }
}

type Walk<T = ()> = Result<T, Failure>;

/// Encodes the session data, which must be a Hash, as JSON.
pub fn encode(ruby: &Ruby, data: Value, max_bytes: usize) -> Result<Vec<u8>, Error> {
    let walk = || -> Walk<Vec<u8>> {
        let hash = RHash::from_value(data)
            .ok_or_else(|| EncodeError::new(EncodeErrorKind::NotAHash(class_name(data))))?;
        let mut encoder = Encoder::new(max_bytes);
        encode_hash(&mut encoder, hash, None)?;
        Ok(encoder.into_bytes())
    };
    walk().map_err(|failure| match failure {
        Failure::Encode(e) => errors::to_ruby(ruby, e.into()),
        Failure::Ruby(e) => e,
    })
}

fn encode_value(encoder: &mut Encoder, value: Value, parent: Option<&Ancestors>) -> Walk {
    if let Some(string) = RString::from_value(value) {
        return Ok(encode_string(encoder, string)?);
    }
    if let Some(fixnum) = Fixnum::from_value(value) {
        return Ok(encoder.integer(fixnum.to_i64())?);
    }
    if value.is_nil() {
        return Ok(encoder.null()?);
    }
    if value.as_raw() == rb_sys::Qtrue as rb_sys::VALUE {
        return Ok(encoder.boolean(true)?);
    }
    if value.as_raw() == rb_sys::Qfalse as rb_sys::VALUE {
        return Ok(encoder.boolean(false)?);
    }
    if let Some(float) = Float::from_value(value) {
        return Ok(encoder.float(float.to_f64())?);
    }
    if let Some(hash) = RHash::from_value(value) {
        return encode_hash(encoder, hash, parent);
    }
    if let Some(array) = RArray::from_value(value) {
        return encode_array(encoder, array, parent);
    }
    if RBignum::from_value(value).is_some() {
        // rb_big2str runs no Ruby code, so no interrupt can be delivered in the middle.
        // SAFETY: a Bignum, with the GVL held.
        let digits = call_c(|| unsafe { rb_sys::rb_big2str(value.as_raw(), 10) })?;
        // SAFETY: the slice is used before any other call into Ruby.
        let digits = unsafe { digits.as_slice() };
        return Ok(encoder.big_integer(std::str::from_utf8(digits).unwrap_or(""))?);
    }
    Err(unsupported(value).into())
}

fn encode_hash(encoder: &mut Encoder, hash: RHash, parent: Option<&Ancestors>) -> Walk {
    refuse_cycle(hash.as_value(), parent)?;
    encoder.begin_object()?;
    let here = Ancestors { container: hash.as_value(), parent };
    let mut failure = None;
    let walked = hash.foreach(|key: Value, value: Value| {
        let step = encode_key(encoder, key).and_then(|name| {
            encode_value(encoder, value, Some(&here))
                .map_err(|e| e.map_encode(|e| e.under_key(&key_label(name))))
        });
        match step {
            Ok(()) => Ok(ForEach::Continue),
            Err(e) => {
                failure = Some(e);
                Ok(ForEach::Stop)
            }
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    walked.map_err(Failure::Ruby)?;
    encoder.end_object();
    Ok(())
}

fn encode_array(encoder: &mut Encoder, array: RArray, parent: Option<&Ancestors>) -> Walk {
    refuse_cycle(array.as_value(), parent)?;
    encoder.begin_array()?;
    let here = Ancestors { container: array.as_value(), parent };
    // The length is read each time round: nothing stops a caller's other thread from shrinking it.
    let mut index = 0;
    while index < array.len() {
        let item: Value = array.entry(index as isize).map_err(Failure::Ruby)?;
        encode_value(encoder, item, Some(&here)).map_err(|e| e.map_encode(|e| e.at_index(index)))?;
        index += 1;
    }
    encoder.end_array();
    Ok(())
}

/// A C function of Ruby's that returns a String and runs no Ruby code, under `rb_protect` (it
/// may still raise NoMemoryError, passed on as is).
fn call_c(function: impl FnOnce() -> rb_sys::VALUE) -> Walk<RString> {
    let value = magnus::rb_sys::protect(function).map_err(Failure::Ruby)?;
    // SAFETY: a live object just returned by Ruby.
    let value = unsafe { Value::from_raw(value) };
    RString::from_value(value).ok_or_else(|| unsupported(value).into())
}

fn refuse_cycle(container: Value, parent: Option<&Ancestors>) -> Result<(), EncodeError> {
    match parent {
        Some(ancestors) if ancestors.contains(container) => Err(EncodeError::new(EncodeErrorKind::Cycle)),
        _ => Ok(()),
    }
}

/// Writes a key and returns it as a Ruby String; the error path is built from it only on error,
/// so the happy path copies no key.
fn encode_key(encoder: &mut Encoder, key: Value) -> Walk<RString> {
    let name = if let Some(string) = RString::from_value(key) {
        string
    } else if let Some(symbol) = Symbol::from_value(key) {
        // rb_sym2str, not rb_id2name: a symbol may hold a NUL byte; and no Ruby code runs.
        // SAFETY: a Symbol, with the GVL held.
        call_c(|| unsafe { rb_sys::rb_sym2str(symbol.as_raw()) })?
    } else {
        return Err(EncodeError::new(EncodeErrorKind::UnsupportedKey(class_name(key))).into());
    };
    let invalid_key = || EncodeError::new(EncodeErrorKind::InvalidUtf8Key).under_key(&key_label(name));
    check_encoding(name).map_err(|_| invalid_key())?;
    // SAFETY: the slice is used before any other call into Ruby.
    let bytes = unsafe { name.as_slice() };
    let text = std::str::from_utf8(bytes).map_err(|_| invalid_key())?;
    encoder.key(text).map_err(|e| e.under_key(text))?;
    Ok(name)
}

/// A key as text for an error path.
fn key_label(name: RString) -> String {
    // SAFETY: copied out at once.
    String::from_utf8_lossy(unsafe { name.as_slice() }).into_owned()
}

fn encode_string(encoder: &mut Encoder, string: RString) -> Result<(), EncodeError> {
    check_encoding(string)?;
    // SAFETY: the slice is used before any other call into Ruby.
    encoder.string_bytes(unsafe { string.as_slice() })
}

/// UTF-8, US-ASCII and binary strings are accepted when their bytes are valid UTF-8.
fn check_encoding(string: RString) -> Result<(), EncodeError> {
    let ruby = Ruby::get_with(string);
    let index = string.enc_get();
    if string.is_utf8_compatible_encoding() || index == ruby.ascii8bit_encindex() {
        Ok(())
    } else {
        Err(EncodeError::new(EncodeErrorKind::InvalidUtf8))
    }
}

fn unsupported(value: Value) -> EncodeError {
    EncodeError::new(EncodeErrorKind::Unsupported(class_name(value)))
}

fn class_name(value: Value) -> String {
    // SAFETY: the name is copied out at once.
    unsafe { value.classname() }.into_owned()
}
