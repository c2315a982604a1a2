//! Reads a stored entry (a JSON object) straight into the caller's values: the binding builds
//! Ruby objects as it goes, with no intermediate tree. Numbers follow Ruby's `JSON.parse`: no
//! fraction or exponent means an Integer of any size.

use std::fmt;

use super::codec::Number;

/// Deepest nesting read back; deeper input is refused, never a stack overflow.
pub const MAX_PARSE_DEPTH: usize = 128;

/// Where parsed values go. Containers are created empty and filled in document order.
pub trait Build {
    type Value: Copy;
    type Error;
    fn null(&mut self) -> Result<Self::Value, Self::Error>;
    fn boolean(&mut self, value: bool) -> Result<Self::Value, Self::Error>;
    fn number(&mut self, value: Number<'_>) -> Result<Self::Value, Self::Error>;
    fn string(&mut self, value: &str) -> Result<Self::Value, Self::Error>;
    fn array(&mut self) -> Result<Self::Value, Self::Error>;
    fn push(&mut self, array: Self::Value, item: Self::Value) -> Result<(), Self::Error>;
    fn object(&mut self) -> Result<Self::Value, Self::Error>;
    fn insert(&mut self, object: Self::Value, key: &str, value: Self::Value) -> Result<(), Self::Error>;
}

/// Why an entry could not be read: bad JSON (with its byte offset), or the builder's own error.
#[derive(Debug, PartialEq)]
pub enum ParseError<E> {
    Syntax { what: &'static str, offset: usize },
    Build(E),
}

impl<E: fmt::Display> fmt::Display for ParseError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Syntax { what, offset } => {
                write!(f, "the entry stored in Redis is not a JSON object ({what} at byte {offset})")
            }
            ParseError::Build(e) => e.fmt(f),
        }
    }
}

/// Parses a document that must be one JSON object.
pub fn parse_object<B: Build>(bytes: &[u8], builder: &mut B) -> Result<B::Value, ParseError<B::Error>> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ParseError::Syntax { what: "invalid UTF-8", offset: e.valid_up_to() })?;
    let mut parser = Parser { text, bytes, pos: 0, builder, scratch: String::new() };
    parser.skip_whitespace();
    if parser.peek() != Some(b'{') {
        return Err(parser.syntax("expected an object"));
    }
    let value = parser.value(0)?;
    parser.skip_whitespace();
    if parser.pos != bytes.len() {
        return Err(parser.syntax("trailing characters"));
    }
    Ok(value)
}

struct Parser<'a, B> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    builder: &'a mut B,
    /// Reused for every string with escapes, so reading one allocates nothing new.
    scratch: String,
}

/// Where a string just read lives: in the input, or (decoded from escapes) in the scratch buffer.
enum Text<'a> {
    Input(&'a str),
    Scratch,
}

impl<'a, B: Build> Parser<'a, B> {
    fn value(&mut self, depth: usize) -> Result<B::Value, ParseError<B::Error>> {
        self.skip_whitespace();
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => {
                let string = match self.string()? {
                    Text::Input(text) => text,
                    Text::Scratch => self.scratch.as_str(),
                };
                self.builder.string(string).map_err(ParseError::Build)
            }
            Some(b't') => {
                self.literal("true").and_then(|()| self.builder.boolean(true).map_err(ParseError::Build))
            }
            Some(b'f') => {
                self.literal("false").and_then(|()| self.builder.boolean(false).map_err(ParseError::Build))
            }
            Some(b'n') => self.literal("null").and_then(|()| self.builder.null().map_err(ParseError::Build)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.syntax("unexpected character")),
            None => Err(self.syntax("unexpected end")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<B::Value, ParseError<B::Error>> {
        self.enter(depth)?;
        let object = self.builder.object().map_err(ParseError::Build)?;
        self.skip_whitespace();
        if self.eat(b'}') {
            return Ok(object);
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.syntax("expected a key"));
            }
            let key = match self.string()? {
                Text::Input(key) => std::borrow::Cow::Borrowed(key),
                // The value may reuse the scratch buffer: keep this key apart.
                Text::Scratch => std::borrow::Cow::Owned(self.scratch.clone()),
            };
            self.skip_whitespace();
            if !self.eat(b':') {
                return Err(self.syntax("expected ':'"));
            }
            let value = self.value(depth)?;
            self.builder.insert(object, &key, value).map_err(ParseError::Build)?;
            self.skip_whitespace();
            if self.eat(b',') {
                continue;
            }
            if self.eat(b'}') {
                return Ok(object);
            }
            return Err(self.syntax("expected ',' or '}'"));
        }
    }

    fn array(&mut self, depth: usize) -> Result<B::Value, ParseError<B::Error>> {
        self.enter(depth)?;
        let array = self.builder.array().map_err(ParseError::Build)?;
        self.skip_whitespace();
        if self.eat(b']') {
            return Ok(array);
        }
        loop {
            let item = self.value(depth)?;
            self.builder.push(array, item).map_err(ParseError::Build)?;
            self.skip_whitespace();
            if self.eat(b',') {
                continue;
            }
            if self.eat(b']') {
                return Ok(array);
            }
            return Err(self.syntax("expected ',' or ']'"));
        }
    }

    fn enter(&mut self, depth: usize) -> Result<(), ParseError<B::Error>> {
        if depth > MAX_PARSE_DEPTH {
            return Err(self.syntax("nesting too deep"));
        }
        self.pos += 1; // the opening bracket
        Ok(())
    }

    /// A string without escapes is borrowed from the input; one with escapes is decoded into
    /// the scratch buffer.
    fn string(&mut self) -> Result<Text<'a>, ParseError<B::Error>> {
        self.pos += 1; // the opening quote
        let start = self.pos;
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b'"' => {
                    self.pos += 1;
                    let text: &'a str = self.text;
                    return Ok(Text::Input(&text[start..self.pos - 1]));
                }
                b'\\' => return self.escaped_string(start).map(|()| Text::Scratch),
                0x00..=0x1f => return Err(self.syntax("control character in a string")),
                _ => self.pos += 1,
            }
        }
        Err(self.syntax("unterminated string"))
    }

    fn escaped_string(&mut self, start: usize) -> Result<(), ParseError<B::Error>> {
        let mut out = std::mem::take(&mut self.scratch);
        out.clear();
        out.push_str(&self.text[start..self.pos]);
        let result = self.unescape_into(&mut out);
        self.scratch = out;
        result
    }

    fn unescape_into(&mut self, out: &mut String) -> Result<(), ParseError<B::Error>> {
        loop {
            let run = self.pos;
            while let Some(&b) = self.bytes.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(&self.text[run..self.pos]);
            match self.bytes.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let escape = self.bytes.get(self.pos).copied();
                    self.pos += 1;
                    match escape {
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'/') => out.push('/'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'n') => out.push('\n'),
                        Some(b'r') => out.push('\r'),
                        Some(b't') => out.push('\t'),
                        Some(b'u') => out.push(self.unicode_escape()?),
                        _ => return Err(self.syntax("invalid escape")),
                    }
                }
                Some(_) => return Err(self.syntax("control character in a string")),
                None => return Err(self.syntax("unterminated string")),
            }
        }
    }

    /// The character of a `\uXXXX` escape (the `\u` already read), joining surrogate pairs.
    fn unicode_escape(&mut self) -> Result<char, ParseError<B::Error>> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                    return Err(self.syntax("lone surrogate"));
                }
                self.pos += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.syntax("lone surrogate"));
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.syntax("lone surrogate")),
            _ => first,
        };
        char::from_u32(code).ok_or_else(|| self.syntax("invalid \\u escape"))
    }

    fn hex4(&mut self) -> Result<u32, ParseError<B::Error>> {
        let digits = self.text.get(self.pos..self.pos + 4).ok_or_else(|| self.syntax("short \\u escape"))?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(self.syntax("invalid \\u escape"));
        }
        self.pos += 4;
        u32::from_str_radix(digits, 16).map_err(|_| self.syntax("invalid \\u escape"))
    }

    fn number(&mut self) -> Result<B::Value, ParseError<B::Error>> {
        let start = self.pos;
        self.eat(b'-');
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.syntax("invalid number")),
        }
        let mut float = false;
        if self.eat(b'.') {
            float = true;
            if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
                return Err(self.syntax("invalid number"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            float = true;
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
                return Err(self.syntax("invalid number"));
            }
            self.digits();
        }
        let text = &self.text[start..self.pos];
        let number = if float {
            Number::Float(text.parse().map_err(|_| self.syntax("invalid number"))?)
        } else {
            match text.parse::<i64>() {
                Ok(integer) => Number::Integer(integer),
                Err(_) => Number::BigInteger(text),
            }
        };
        self.builder.number(number).map_err(ParseError::Build)
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    fn literal(&mut self, word: &'static str) -> Result<(), ParseError<B::Error>> {
        if self.bytes.get(self.pos..self.pos + word.len()) == Some(word.as_bytes()) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.syntax("invalid literal"))
        }
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn syntax(&self, what: &'static str) -> ParseError<B::Error> {
        ParseError::Syntax { what, offset: self.pos }
    }
}
