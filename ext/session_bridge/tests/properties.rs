//! Property tests: the codec, the JSON parser and the token parser never panic (a panic would end the Ruby
//! process), and what the encoder writes is JSON that reads back as what was written.

use proptest::prelude::*;
use serde_json::{json, Value};
use session_bridge::core::codec::{EncodeError, EncodeErrorKind, Encoder, Number, MAX_DEPTH};
use session_bridge::core::parse::{parse_object, Build, ParseError};
use session_bridge::core::token;

/// Session-like data, shaped like what the Ruby walk feeds the encoder.
#[derive(Debug, Clone)]
enum Data {
    Null,
    Bool(bool),
    Int(i64),
    Big(String),
    Float(f64),
    Str(String),
    Array(Vec<Data>),
    Object(Vec<(String, Data)>),
}

fn data() -> impl Strategy<Value = Data> {
    let leaf = prop_oneof![
        Just(Data::Null),
        any::<bool>().prop_map(Data::Bool),
        any::<i64>().prop_map(Data::Int),
        "-?[1-9][0-9]{19,40}".prop_map(Data::Big),
        any::<f64>().prop_map(Data::Float),
        any::<String>().prop_map(Data::Str),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Data::Array),
            prop::collection::vec((any::<String>(), inner), 0..6).prop_map(Data::Object),
        ]
    })
}

fn write(encoder: &mut Encoder, data: &Data) -> Result<(), EncodeError> {
    match data {
        Data::Null => encoder.null(),
        Data::Bool(b) => encoder.boolean(*b),
        Data::Int(i) => encoder.integer(*i),
        Data::Big(digits) => encoder.big_integer(digits),
        Data::Float(f) => encoder.float(*f),
        Data::Str(s) => encoder.string(s),
        Data::Array(items) => {
            encoder.begin_array()?;
            for (index, item) in items.iter().enumerate() {
                write(encoder, item).map_err(|e| e.at_index(index))?;
            }
            encoder.end_array();
            Ok(())
        }
        Data::Object(entries) => {
            encoder.begin_object()?;
            for (key, value) in entries {
                encoder.key(key)?;
                write(encoder, value).map_err(|e| e.under_key(key))?;
            }
            encoder.end_object();
            Ok(())
        }
    }
}

/// What serde_json should read back, or None when the data holds a non-finite float.
fn expected(data: &Data) -> Option<Value> {
    Some(match data {
        Data::Null => Value::Null,
        Data::Bool(b) => json!(b),
        Data::Int(i) => json!(i),
        Data::Big(digits) => serde_json::from_str(digits).ok()?,
        Data::Float(f) if f.is_finite() => serde_json::from_str(&serde_json::to_string(f).ok()?).ok()?,
        Data::Float(_) => return None,
        Data::Str(s) => json!(s),
        Data::Array(items) => Value::Array(items.iter().map(expected).collect::<Option<_>>()?),
        Data::Object(entries) => {
            let mut map = serde_json::Map::new();
            for (key, value) in entries {
                map.insert(key.clone(), expected(value)?);
            }
            Value::Object(map)
        }
    })
}

fn has_non_finite(data: &Data) -> bool {
    match data {
        Data::Float(f) => !f.is_finite(),
        Data::Array(items) => items.iter().any(has_non_finite),
        Data::Object(entries) => entries.iter().any(|(_, v)| has_non_finite(v)),
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn encoded_data_reads_back_as_written(data in data()) {
        let mut encoder = Encoder::new(usize::MAX);
        let root = Data::Object(vec![("data".into(), data.clone())]);
        match write(&mut encoder, &root) {
            Ok(()) => {
                let text = String::from_utf8(encoder.into_bytes()).expect("the encoder writes UTF-8");
                let parsed: Value = serde_json::from_str(&text).expect("the encoder writes JSON");
                prop_assert_eq!(Some(parsed), expected(&root));
            }
            Err(e) => {
                prop_assert!(has_non_finite(&data), "unexpected error {e}");
                prop_assert!(e.path().starts_with("data[\"data\"]"));
                prop_assert_eq!(e.kind, EncodeErrorKind::NonFiniteFloat);
            }
        }
    }

    #[test]
    fn the_size_limit_is_never_exceeded(data in data(), limit in 2usize..512) {
        let mut encoder = Encoder::new(limit);
        let root = Data::Object(vec![("k".into(), data)]);
        if write(&mut encoder, &root).is_ok() {
            prop_assert!(encoder.into_bytes().len() <= limit);
        }
    }

    #[test]
    fn nesting_past_the_limit_is_an_error_not_a_crash(depth in 0usize..200) {
        let mut encoder = Encoder::new(usize::MAX);
        let mut result = Ok(());
        for _ in 0..depth {
            result = encoder.begin_array();
            if result.is_err() {
                break;
            }
        }
        prop_assert_eq!(result.is_err(), depth > MAX_DEPTH);
    }

    #[test]
    fn the_token_parser_accepts_exactly_32_lowercase_hex(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let expected = bytes.len() == 32 && bytes.iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b));
        prop_assert_eq!(token::is_well_formed(&bytes), expected);
    }

    #[test]
    fn minted_tokens_always_parse(session_id in prop::collection::vec(any::<u8>(), 0..1024)) {
        let minted = token::mint(&session_id).unwrap();
        prop_assert!(token::is_well_formed(minted.as_bytes()));
    }
}

/// Builds serde_json values from the parser's events, so the parser can be checked against
/// serde_json itself. Values are indices into an arena (the trait wants Copy values).
#[derive(Default)]
struct Arena {
    nodes: Vec<Value>,
    /// Children of each container, in order, with their keys.
    children: Vec<Vec<(Option<String>, usize)>>,
}

impl Arena {
    fn add(&mut self, value: Value) -> usize {
        self.nodes.push(value);
        self.children.push(Vec::new());
        self.nodes.len() - 1
    }

    fn resolve(&self, index: usize) -> Value {
        match &self.nodes[index] {
            Value::Array(_) => {
                Value::Array(self.children[index].iter().map(|(_, c)| self.resolve(*c)).collect())
            }
            Value::Object(_) => Value::Object(
                self.children[index]
                    .iter()
                    .map(|(k, c)| (k.clone().unwrap_or_default(), self.resolve(*c)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

impl Build for Arena {
    type Value = usize;
    type Error = String;
    fn null(&mut self) -> Result<usize, String> {
        Ok(self.add(Value::Null))
    }
    fn boolean(&mut self, value: bool) -> Result<usize, String> {
        Ok(self.add(json!(value)))
    }
    fn number(&mut self, value: Number<'_>) -> Result<usize, String> {
        let text = match value {
            Number::Integer(i) => i.to_string(),
            Number::BigInteger(digits) => digits.to_owned(),
            Number::Float(f) => serde_json::to_string(&f).map_err(|e| e.to_string())?,
        };
        Ok(self.add(serde_json::from_str(&text).map_err(|e| e.to_string())?))
    }
    fn string(&mut self, value: &str) -> Result<usize, String> {
        Ok(self.add(json!(value)))
    }
    fn array(&mut self) -> Result<usize, String> {
        Ok(self.add(Value::Array(Vec::new())))
    }
    fn push(&mut self, array: usize, item: usize) -> Result<(), String> {
        self.children[array].push((None, item));
        Ok(())
    }
    fn object(&mut self) -> Result<usize, String> {
        Ok(self.add(Value::Object(Default::default())))
    }
    fn insert(&mut self, object: usize, key: &str, value: usize) -> Result<(), String> {
        self.children[object].push((Some(key.to_owned()), value));
        Ok(())
    }
}

fn parse_with_arena(bytes: &[u8]) -> Result<Value, ParseError<String>> {
    let mut arena = Arena::default();
    let root = parse_object(bytes, &mut arena)?;
    Ok(arena.resolve(root))
}

/// serde_json's reading of a document, normalized the way Ruby reads numbers: a number with a
/// fraction or exponent is a Float even when it is integral.
fn serde_reading(bytes: &[u8]) -> Option<Value> {
    fn normalize(value: Value) -> Value {
        match value {
            Value::Number(n) => {
                let text = n.as_str();
                if text.bytes().any(|b| matches!(b, b'.' | b'e' | b'E')) {
                    let f: f64 = text.parse().unwrap();
                    serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap()
                } else {
                    Value::Number(n)
                }
            }
            Value::Array(items) => Value::Array(items.into_iter().map(normalize).collect()),
            Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, normalize(v))).collect()),
            other => other,
        }
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value @ Value::Object(_)) => Some(normalize(value)),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_parser_reads_what_the_encoder_writes(data in data()) {
        let mut encoder = Encoder::new(usize::MAX);
        let root = Data::Object(vec![("data".into(), data)]);
        if write(&mut encoder, &root).is_ok() {
            let bytes = encoder.into_bytes();
            prop_assert_eq!(parse_with_arena(&bytes).ok(), serde_reading(&bytes));
        }
    }

    #[test]
    fn the_parser_agrees_with_serde_json_on_arbitrary_text(text in "\\{[\\[\\]{}:,\"0-9eE.+\\-a-z\\\\ \\t\\n]{0,48}") {
        // Duplicate keys differ by design (both keep the last, but the arena keeps both), so
        // compare only documents serde_json accepts without them.
        let ours = parse_with_arena(text.as_bytes()).ok();
        let theirs = serde_reading(text.as_bytes());
        if theirs.is_some() || ours.is_none() {
            if let (Some(Value::Object(a)), Some(Value::Object(b))) = (&ours, &theirs) {
                prop_assume!(a.len() == b.len());
            }
            prop_assert_eq!(ours.is_some(), theirs.is_some(), "{:?}", text);
        }
    }

    #[test]
    fn the_parser_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = parse_with_arena(&bytes);
    }
}

#[test]
fn the_parser_refuses_what_json_refuses() {
    for bad in [
        &b"[1]"[..],
        b"1",
        b"",
        b"{",
        b"{\"a\"}",
        b"{\"a\":1,}",
        b"{\"a\":01}",
        b"{\"a\":1.}",
        b"{\"a\":-}",
        b"{\"a\":\"\\ud800\"}",
        b"{\"a\":\"\x01\"}",
        b"{\"a\":tru}",
        b"{} x",
        b"{\"a\":\"\\x\"}",
        b"\xff",
    ] {
        assert!(parse_with_arena(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
    }
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(200), "]".repeat(200));
    assert!(parse_with_arena(deep.as_bytes()).is_err());
}

#[test]
fn the_parser_reads_escapes_surrogates_and_big_integers() {
    let doc = br#"{"s":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83c\udf89","big":-123456789012345678901234567890,"f":1E2,"e":[],"o":{}}"#;
    let value = parse_with_arena(doc).unwrap();
    assert_eq!(value["s"], "a\"b\\c/d\u{8}\u{c}\n\r\té🎉");
    assert_eq!(value["big"].to_string(), "-123456789012345678901234567890");
    assert_eq!(value["f"], json!(100.0));
}
