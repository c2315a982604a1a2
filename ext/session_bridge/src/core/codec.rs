//! The JSON written to Redis, and the limits it is read back with (`ruby/json_read.rs` reads it).
//!
//! [`Encoder`] is a streaming writer: the binding walks the Ruby value and calls it, so there is
//! no intermediate tree. It enforces the limits (nesting depth, payload size, finite floats) and
//! its errors carry the path of the offending value, added segment by segment while the walk
//! unwinds, so the happy path pays nothing for it.

use std::fmt;

/// The deepest nesting of Hashes and Arrays accepted; the top-level Hash is depth 1.
pub const MAX_DEPTH: usize = 32;

/// The deepest nesting read back (contract/read_limits.json `max_read_depth`), the top-level
/// Hash included: deeper entries are refused, never a stack overflow.
pub const MAX_READ_DEPTH: usize = 128;

/// Default for the largest JSON document accepted, in bytes.
pub const DEFAULT_MAX_PAYLOAD_BYTES: usize = 64 * 1024;

/// Longest key shown in an error path before it is cut short.
const PATH_KEY_PREVIEW: usize = 40;

#[derive(Debug, Clone, PartialEq)]
pub enum PathSegment {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub enum EncodeErrorKind {
    /// A value of a type JSON cannot hold; the string names the Ruby class.
    Unsupported(String),
    /// The session data itself is not a Hash; the string names its class.
    NotAHash(String),
    /// A Hash key that is neither a String nor a Symbol; the string names its class.
    UnsupportedKey(String),
    NonFiniteFloat,
    InvalidUtf8,
    /// The last key of the path is not valid UTF-8 (shown with replacement characters).
    InvalidUtf8Key,
    TooDeep,
    TooLarge(usize),
    Cycle,
}

/// Why a value cannot be stored, and where it sits in the data.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodeError {
    pub kind: EncodeErrorKind,
    /// Innermost segment first: the walk pushes segments while it unwinds.
    reversed_path: Vec<PathSegment>,
}

impl EncodeError {
    pub fn new(kind: EncodeErrorKind) -> Self {
        EncodeError { kind, reversed_path: Vec::new() }
    }

    /// Records that the failing value sits under `key` of the enclosing Hash.
    pub fn under_key(mut self, key: &str) -> Self {
        let preview: String = key.chars().take(PATH_KEY_PREVIEW).collect();
        self.reversed_path.push(PathSegment::Key(preview));
        self
    }

    /// Records that the failing value sits at `index` of the enclosing Array.
    pub fn at_index(mut self, index: usize) -> Self {
        self.reversed_path.push(PathSegment::Index(index));
        self
    }

    /// The path in Ruby notation, such as `data["roles"][2]`.
    pub fn path(&self) -> String {
        let mut out = String::from("data");
        for segment in self.reversed_path.iter().rev() {
            match segment {
                PathSegment::Key(key) => out.push_str(&format!("[{key:?}]")),
                PathSegment::Index(index) => out.push_str(&format!("[{index}]")),
            }
        }
        out
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path();
        match &self.kind {
            EncodeErrorKind::Unsupported(class) => {
                write!(f, "{path} is a {class}, which JSON cannot hold (use String, Integer, Float, true, false, nil, Array or Hash)")
            }
            EncodeErrorKind::NotAHash(class) => {
                write!(f, "session data must be a Hash, got a {class}")
            }
            EncodeErrorKind::UnsupportedKey(class) => {
                write!(f, "{path} has a {class} key; keys must be Strings or Symbols")
            }
            EncodeErrorKind::NonFiniteFloat => {
                write!(f, "{path} is NaN or Infinity, which JSON cannot hold")
            }
            EncodeErrorKind::InvalidUtf8 => write!(f, "{path} is not a valid UTF-8 string"),
            EncodeErrorKind::InvalidUtf8Key => write!(f, "the key of {path} is not a valid UTF-8 string"),
            EncodeErrorKind::TooDeep => {
                write!(f, "{path} nests Hashes and Arrays deeper than {MAX_DEPTH} levels")
            }
            EncodeErrorKind::TooLarge(limit) => {
                write!(f, "the session data at {path} grows the JSON past max_payload_bytes ({limit} bytes)")
            }
            EncodeErrorKind::Cycle => write!(f, "{path} contains itself (a cycle)"),
        }
    }
}

impl std::error::Error for EncodeError {}

type Result<T> = std::result::Result<T, EncodeError>;

/// Writes one JSON document, checking the limits as it goes.
pub struct Encoder {
    out: Vec<u8>,
    max_bytes: usize,
    depth: usize,
    need_comma: bool,
}

impl Encoder {
    pub fn new(max_bytes: usize) -> Self {
        Encoder { out: Vec::with_capacity(256.min(max_bytes)), max_bytes, depth: 0, need_comma: false }
    }

    pub fn begin_object(&mut self) -> Result<()> {
        self.open(b'{')
    }

    pub fn end_object(&mut self) {
        self.close(b'}')
    }

    pub fn begin_array(&mut self) -> Result<()> {
        self.open(b'[')
    }

    pub fn end_array(&mut self) {
        self.close(b']')
    }

    pub fn key(&mut self, key: &str) -> Result<()> {
        self.string(key)?;
        self.out.push(b':');
        self.need_comma = false;
        Ok(())
    }

    pub fn string(&mut self, value: &str) -> Result<()> {
        // Escaping only grows a string: refuse a huge one before copying it.
        self.reserve(value.len() + 2)?;
        self.separate();
        serde_json::to_writer(&mut self.out, value).map_err(|_| too_large(self.max_bytes))?;
        self.finish_value()
    }

    /// Bytes of a string that must first be checked for UTF-8.
    pub fn string_bytes(&mut self, value: &[u8]) -> Result<()> {
        let text = std::str::from_utf8(value).map_err(|_| EncodeError::new(EncodeErrorKind::InvalidUtf8))?;
        self.string(text)
    }

    pub fn integer(&mut self, value: i64) -> Result<()> {
        self.separate();
        let mut buffer = itoa::Buffer::new();
        self.out.extend_from_slice(buffer.format(value).as_bytes());
        self.finish_value()
    }

    /// An integer too large for i64, given as its decimal digits (with an optional minus sign).
    pub fn big_integer(&mut self, digits: &str) -> Result<()> {
        let body = digits.strip_prefix('-').unwrap_or(digits);
        if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
            return Err(EncodeError::new(EncodeErrorKind::Unsupported("Integer".into())));
        }
        self.reserve(digits.len())?;
        self.separate();
        self.out.extend_from_slice(digits.as_bytes());
        self.finish_value()
    }

    pub fn float(&mut self, value: f64) -> Result<()> {
        if !value.is_finite() {
            return Err(EncodeError::new(EncodeErrorKind::NonFiniteFloat));
        }
        self.separate();
        serde_json::to_writer(&mut self.out, &value).map_err(|_| too_large(self.max_bytes))?;
        self.finish_value()
    }

    pub fn boolean(&mut self, value: bool) -> Result<()> {
        self.separate();
        self.out.extend_from_slice(if value { b"true" } else { b"false" });
        self.finish_value()
    }

    pub fn null(&mut self) -> Result<()> {
        self.separate();
        self.out.extend_from_slice(b"null");
        self.finish_value()
    }

    /// The finished document.
    pub fn into_bytes(self) -> Vec<u8> {
        self.out
    }

    fn open(&mut self, bracket: u8) -> Result<()> {
        if self.depth >= MAX_DEPTH {
            return Err(EncodeError::new(EncodeErrorKind::TooDeep));
        }
        self.depth += 1;
        self.separate();
        self.out.push(bracket);
        self.need_comma = false;
        self.check_size()
    }

    fn close(&mut self, bracket: u8) {
        self.depth = self.depth.saturating_sub(1);
        self.out.push(bracket);
        self.need_comma = true;
    }

    fn separate(&mut self) {
        if self.need_comma {
            self.out.push(b',');
        }
    }

    fn finish_value(&mut self) -> Result<()> {
        self.need_comma = true;
        self.check_size()
    }

    fn reserve(&self, additional: usize) -> Result<()> {
        if self.out.len().saturating_add(additional) > self.max_bytes {
            return Err(too_large(self.max_bytes));
        }
        Ok(())
    }

    fn check_size(&self) -> Result<()> {
        // The closing brackets still to come count too.
        if self.out.len() + self.depth > self.max_bytes {
            return Err(too_large(self.max_bytes));
        }
        Ok(())
    }
}

fn too_large(limit: usize) -> EncodeError {
    EncodeError::new(EncodeErrorKind::TooLarge(limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(build: impl FnOnce(&mut Encoder) -> Result<()>) -> Result<String> {
        let mut encoder = Encoder::new(DEFAULT_MAX_PAYLOAD_BYTES);
        build(&mut encoder)?;
        Ok(String::from_utf8(encoder.into_bytes()).unwrap())
    }

    #[test]
    fn writes_nested_objects_and_arrays_with_separators() {
        let json = encode(|e| {
            e.begin_object()?;
            e.key("user_id")?;
            e.integer(1)?;
            e.key("roles")?;
            e.begin_array()?;
            e.string("admin")?;
            e.null()?;
            e.boolean(true)?;
            e.float(1.5)?;
            e.begin_object()?;
            e.end_object();
            e.end_array();
            e.key("big")?;
            e.big_integer("-123456789012345678901234567890")?;
            e.end_object();
            Ok(())
        })
        .unwrap();
        assert_eq!(
            json,
            r#"{"user_id":1,"roles":["admin",null,true,1.5,{}],"big":-123456789012345678901234567890}"#
        );
    }

    #[test]
    fn escapes_strings_so_they_parse_back_unchanged() {
        let text = "quote \" backslash \\ newline \n tab \t nul \u{0} emoji 🎉 </script>";
        let json = encode(|e| e.string(text)).unwrap();
        let back: String = serde_json::from_str(&json).unwrap();
        assert_eq!(back, text);
    }

    #[test]
    fn floats_keep_a_fraction_so_they_read_back_as_floats() {
        assert_eq!(encode(|e| e.float(1.0)).unwrap(), "1.0");
        assert_eq!(encode(|e| e.float(1e300)).unwrap(), "1e+300");
    }

    #[test]
    fn rejects_non_finite_floats() {
        for f in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(encode(|e| e.float(f)).unwrap_err().kind, EncodeErrorKind::NonFiniteFloat);
        }
    }

    #[test]
    fn rejects_invalid_utf8() {
        let err = encode(|e| e.string_bytes(b"\xff\xfe")).unwrap_err();
        assert_eq!(err.kind, EncodeErrorKind::InvalidUtf8);
    }

    #[test]
    fn rejects_nesting_past_the_limit() {
        let mut encoder = Encoder::new(DEFAULT_MAX_PAYLOAD_BYTES);
        for _ in 0..MAX_DEPTH {
            encoder.begin_array().unwrap();
        }
        assert_eq!(encoder.begin_array().unwrap_err().kind, EncodeErrorKind::TooDeep);
    }

    #[test]
    fn rejects_payloads_past_the_size_limit_before_copying_them() {
        let mut encoder = Encoder::new(100);
        encoder.begin_object().unwrap();
        encoder.key("k").unwrap();
        let huge = "x".repeat(10_000_000);
        assert_eq!(encoder.string(&huge).unwrap_err().kind, EncodeErrorKind::TooLarge(100));
        assert!(encoder.into_bytes().len() < 100);
    }

    #[test]
    fn a_payload_exactly_at_the_limit_is_accepted() {
        let doc = r#"{"k":"xxxx"}"#;
        let mut encoder = Encoder::new(doc.len());
        encoder.begin_object().unwrap();
        encoder.key("k").unwrap();
        encoder.string("xxxx").unwrap();
        encoder.end_object();
        assert_eq!(encoder.into_bytes(), doc.as_bytes());
    }

    #[test]
    fn error_paths_read_like_ruby() {
        let err =
            EncodeError::new(EncodeErrorKind::Unsupported("Time".into())).at_index(2).under_key("roles");
        assert_eq!(err.path(), r#"data["roles"][2]"#);
        assert_eq!(
            err.to_string(),
            r#"data["roles"][2] is a Time, which JSON cannot hold (use String, Integer, Float, true, false, nil, Array or Hash)"#
        );
    }
}
