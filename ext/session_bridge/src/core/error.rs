use std::fmt;

use super::codec::EncodeError;

/// Every failure of the core. The binding maps each variant to one Ruby exception class.
///
/// Messages never contain a token or a session payload: they end up in logs.
#[derive(Debug)]
pub enum Error {
    /// A setting that cannot work (bad URL, bad key). Raised at configure time.
    Configuration(String),
    /// The TCP connection (or its handshake) could not be established in time.
    CannotConnect(String),
    /// Redis did not answer within the read or write timeout.
    Timeout(String),
    /// An established connection broke, or the call was interrupted.
    Connection(String),
    /// Redis answered with an error reply.
    Command { code: String, message: String },
    /// The session data cannot be stored as JSON, or a stored entry is not JSON.
    Serialization(String),
    /// An argument the caller passed cannot be used (a user id with control characters, say).
    Argument(String),
}

impl Error {
    pub fn message(&self) -> String {
        match self {
            Error::Configuration(m)
            | Error::CannotConnect(m)
            | Error::Timeout(m)
            | Error::Connection(m)
            | Error::Serialization(m)
            | Error::Argument(m) => m.clone(),
            Error::Command { message, .. } => message.clone(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Error {}

impl From<EncodeError> for Error {
    fn from(e: EncodeError) -> Self {
        Error::Serialization(e.to_string())
    }
}
