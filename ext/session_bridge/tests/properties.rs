//! Property tests: the codec and the token parser never panic (a panic would end the Ruby process), and
//! what the encoder writes is JSON that reads back as what was written. Reading entries back into Ruby
//! is the binding's (`ruby/json_read.rs`), tested by spec/session_bridge/json_codec_spec.rb.

use proptest::prelude::*;
use serde_json::{json, Value};
use session_bridge::core::codec::{EncodeError, EncodeErrorKind, Encoder, MAX_DEPTH};
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
