//! Where a stored entry is read back: serde_json reads the JSON and the seeds below build Ruby
//! objects as it goes, with no intermediate tree, as `JSON.parse` would: String keys (interned),
//! Integers of any size, Floats.
//!
//! Every Ruby call that may raise (an allocation can raise NoMemoryError) runs inside `protect`,
//! which hands the exception back as a Rust error instead of unwinding through serde_json's frames.
//! The objects under construction are plain `Value`s on the Rust stack, where the GC sees them.

use std::cell::Cell;
use std::ffi::c_long;
use std::fmt;

use magnus::{
    rb_sys::{protect, AsRawValue, FromRawValue},
    Error, RHash, Ruby, Value,
};
use rb_sys::VALUE;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::errors;
use crate::core::{self, codec::MAX_READ_DEPTH};

/// The key serde_json's `arbitrary_precision` gives a number that does not fit `i64`/`u64` (any
/// float, too): the number arrives as a one-entry map from this key to the number's text.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Reads a stored entry into a Ruby Hash. Anything but one JSON object of valid Unicode, nested at
/// most [`MAX_READ_DEPTH`] levels, is a SerializationError whose message never quotes the entry; a
/// Ruby error raised while building (NoMemoryError) is passed on as it is.
pub fn parse_entry(ruby: &Ruby, bytes: &[u8]) -> Result<RHash, Error> {
    let reader = Reader { input: bytes, failure: Cell::new(None) };
    let mut json = serde_json::Deserializer::from_slice(bytes);
    // serde_json's own limit stops at 127 levels; ours (the contract's) is 128, counted below.
    json.disable_recursion_limit();
    let read = if starts_with_object(bytes) {
        ValueSeed { reader: &reader, depth: 0 }
            .deserialize(&mut json)
            .and_then(|item| json.end().map(|()| item))
    } else {
        Err(reader.refuse("the top level is not an object"))
    };
    match read {
        Ok(Item::Built(value)) => {
            RHash::from_value(value).ok_or_else(|| errors::internal(ruby, "the entry read is not a Hash"))
        }
        Ok(_) => Err(errors::internal(ruby, "the entry read is not a Hash")),
        Err(error) => Err(match reader.failure.take() {
            Some(Failure::Ruby(error)) => error,
            Some(Failure::TooDeep) => {
                not_an_object(ruby, &format!("nested deeper than {MAX_READ_DEPTH} levels"))
            }
            Some(Failure::Refused(why)) => not_an_object(ruby, why),
            // Syntax errors name a fixed problem and a position; other serde_json messages may
            // quote the input, so they are not shown.
            None => match error.classify() {
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                    not_an_object(ruby, &error.to_string())
                }
                _ => not_an_object(ruby, "an unexpected value"),
            },
        }),
    }
}

fn starts_with_object(bytes: &[u8]) -> bool {
    bytes.iter().find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r')) == Some(&b'{')
}

fn not_an_object(ruby: &Ruby, why: &str) -> Error {
    let message = format!("the entry stored in Redis is not a JSON object ({why})");
    errors::to_ruby(ruby, core::Error::Serialization(message))
}

/// The input, and why reading stopped when the reason is ours rather than serde_json's.
struct Reader<'de> {
    input: &'de [u8],
    failure: Cell<Option<Failure>>,
}

enum Failure {
    /// Raised by Ruby while building; passed on unchanged.
    Ruby(Error),
    /// Hashes and Arrays nested deeper than [`MAX_READ_DEPTH`].
    TooDeep,
    /// Another reason of ours: the top level, a number Ruby cannot read.
    Refused(&'static str),
}

impl Reader<'_> {
    /// Runs Ruby calls that may raise; an exception is kept for `parse_entry` to pass on.
    fn build<E: de::Error>(&self, call: impl FnOnce() -> VALUE) -> Result<Value, E> {
        match protect(call) {
            // SAFETY: a live object just returned by Ruby, kept on the stack by the caller.
            Ok(value) => Ok(unsafe { Value::from_raw(value) }),
            Err(error) => Err(self.fail(Failure::Ruby(error))),
        }
    }

    fn refuse<E: de::Error>(&self, why: &'static str) -> E {
        self.fail(Failure::Refused(why))
    }

    fn fail<E: de::Error>(&self, failure: Failure) -> E {
        self.failure.set(Some(failure));
        // serde_json wraps this message; parse_entry shows the failure kept above instead.
        E::custom("refused")
    }

    /// Whether serde_json borrowed this text from the entry itself (its number key comes from
    /// serde_json's own memory, so an entry holding that very key is still read as a key).
    fn holds(&self, text: &str) -> bool {
        self.input.as_ptr_range().contains(&text.as_ptr())
    }
}

/// A value read. Scalars become Ruby objects only inside the protected call that stores them in
/// their Hash or Array, so one `protect` does both.
enum Item<'de> {
    /// A Hash, an Array or a String with escapes, already made.
    Built(Value),
    Nil,
    Bool(bool),
    Integer(i64),
    Unsigned(u64),
    Float(f64),
    /// A string without escapes, borrowed from the entry.
    Str(&'de str),
    /// The digits of an integer beyond 64 bits, NUL-terminated for `rb_cstr2inum`.
    Digits(String),
}

impl Item<'_> {
    /// The Ruby object. May raise (NoMemoryError): call it only inside [`Reader::build`].
    unsafe fn make(&self) -> VALUE {
        match self {
            Item::Built(value) => value.as_raw(),
            Item::Nil => rb_sys::Qnil as VALUE,
            Item::Bool(true) => rb_sys::Qtrue as VALUE,
            Item::Bool(false) => rb_sys::Qfalse as VALUE,
            Item::Integer(i) => rb_sys::rb_ll2inum(*i),
            Item::Unsigned(u) => rb_sys::rb_ull2inum(*u),
            Item::Float(f) => rb_sys::rb_float_new(*f),
            Item::Str(text) => utf8_string(text),
            Item::Digits(digits) => rb_sys::rb_cstr2inum(digits.as_ptr().cast(), 10),
        }
    }
}

unsafe fn utf8_string(text: &str) -> VALUE {
    rb_sys::rb_utf8_str_new(text.as_ptr().cast(), text.len() as c_long)
}

/// A Hash key as an interned (frozen, deduplicated) String, as `Hash#[]=` would freeze a copy
/// anyway: the keys repeated across a document's objects are allocated once.
unsafe fn interned_key(text: &str) -> VALUE {
    rb_sys::rb_enc_interned_str(text.as_ptr().cast(), text.len() as c_long, rb_sys::rb_utf8_encoding())
}

/// Reads one value; `depth` is how many Hashes and Arrays enclose it.
struct ValueSeed<'a, 'de> {
    reader: &'a Reader<'de>,
    depth: usize,
}

impl ValueSeed<'_, '_> {
    /// The nesting level of a Hash or Array opened here (the top-level Hash is level 1).
    fn open<E: de::Error>(&self) -> Result<usize, E> {
        let level = self.depth + 1;
        if level > MAX_READ_DEPTH {
            return Err(self.reader.fail(Failure::TooDeep));
        }
        Ok(level)
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_, 'de> {
    type Value = Item<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Item<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_, 'de> {
    type Value = Item<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Item<'de>, E> {
        Ok(Item::Nil)
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Item<'de>, E> {
        Ok(Item::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Item<'de>, E> {
        Ok(Item::Integer(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Item<'de>, E> {
        Ok(Item::Unsigned(value))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Item<'de>, E> {
        Ok(Item::Float(value))
    }

    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Item<'de>, E> {
        Ok(Item::Str(value))
    }

    /// A string with escapes, decoded into serde_json's scratch buffer: copied into Ruby now.
    fn visit_str<E: de::Error>(self, value: &str) -> Result<Item<'de>, E> {
        // SAFETY: valid UTF-8 of the given length, with the GVL held.
        self.reader.build(|| unsafe { utf8_string(value) }).map(Item::Built)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Item<'de>, A::Error> {
        let level = self.open()?;
        // SAFETY: the GVL is held.
        let array = self.reader.build(|| unsafe { rb_sys::rb_ary_new() })?;
        while let Some(item) = items.next_element_seed(ValueSeed { reader: self.reader, depth: level })? {
            // SAFETY: `array` is a live Array on this stack; `make` runs inside protect.
            self.reader.build(|| unsafe { rb_sys::rb_ary_push(array.as_raw(), item.make()) })?;
        }
        Ok(Item::Built(array))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Item<'de>, A::Error> {
        let first = match entries.next_key_seed(KeySeed { reader: self.reader })? {
            Some(Key::Number) => return number(self.reader, entries.next_value_seed(NumberText)?),
            Some(Key::Name(name)) => Some(name),
            None => None,
        };
        let level = self.open()?;
        // SAFETY: the GVL is held.
        let hash = self.reader.build(|| unsafe { rb_sys::rb_hash_new() })?;
        let mut key = first;
        while let Some(name) = key {
            let value = entries.next_value_seed(ValueSeed { reader: self.reader, depth: level })?;
            // SAFETY: `hash` is a live Hash on this stack; the key and value are made inside protect.
            self.reader
                .build(|| unsafe { rb_sys::rb_hash_aset(hash.as_raw(), name.make(), value.make()) })?;
            key = match entries.next_key_seed(KeySeed { reader: self.reader })? {
                Some(Key::Name(name)) => Some(name),
                // Only serde_json's number map has that key, and it never comes after another.
                Some(Key::Number) => return Err(self.reader.refuse("an unexpected number")),
                None => None,
            };
        }
        Ok(Item::Built(hash))
    }
}

/// A number serde_json could not give as `i64`/`u64`: a float, or an integer beyond 64 bits.
fn number<'de, E: de::Error>(reader: &Reader<'de>, mut text: String) -> Result<Item<'de>, E> {
    if text.bytes().any(|b| matches!(b, b'.' | b'e' | b'E')) {
        return text.parse().map(Item::Float).map_err(|_| reader.refuse("a number Ruby cannot read"));
    }
    text.push('\0');
    Ok(Item::Digits(text))
}

/// A Hash key, or serde_json's marker for a number.
enum Key<'de> {
    Number,
    Name(Name<'de>),
}

enum Name<'de> {
    /// Borrowed from the entry: interned when stored.
    Borrowed(&'de str),
    /// A key with escapes, interned at once (serde_json reuses its buffer for the value).
    Interned(Value),
}

impl Name<'_> {
    /// The key String. May raise (NoMemoryError): call it only inside [`Reader::build`].
    unsafe fn make(&self) -> VALUE {
        match self {
            Name::Borrowed(text) => interned_key(text),
            Name::Interned(key) => key.as_raw(),
        }
    }
}

struct KeySeed<'a, 'de> {
    reader: &'a Reader<'de>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_, 'de> {
    type Value = Key<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Key<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_, 'de> {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Key<'de>, E> {
        if !self.reader.holds(value) && value == NUMBER_TOKEN {
            return Ok(Key::Number);
        }
        Ok(Key::Name(Name::Borrowed(value)))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Key<'de>, E> {
        // SAFETY: valid UTF-8 of the given length, with the GVL held.
        self.reader.build(|| unsafe { interned_key(value) }).map(|key| Key::Name(Name::Interned(key)))
    }
}

/// The text of a number in serde_json's number map.
struct NumberText;

impl<'de> DeserializeSeed<'de> for NumberText {
    type Value = String;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Visitor<'_> for NumberText {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the text of a number")
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<String, E> {
        Ok(value)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<String, E> {
        Ok(value.to_owned())
    }
}
