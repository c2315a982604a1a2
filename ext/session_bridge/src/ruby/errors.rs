//! The one place where core errors become Ruby exceptions. The classes are defined in Ruby
//! (lib/session_bridge/errors.rb, loaded before this library) and looked up once.
//!
//! Every exception is built here, at once, under `rb_protect`, never lazily by magnus on the way
//! out: Ruby may deliver a pending interrupt (`Timeout`, `Thread#raise`) while an exception is
//! instantiated, and only here can that interrupt be caught and passed on instead.

use magnus::{error::ErrorType, prelude::*, value::Lazy, Error, ExceptionClass, RModule, Ruby};

use crate::core;

fn lookup(ruby: &Ruby, name: &str) -> ExceptionClass {
    ruby.class_object()
        .const_get::<_, RModule>("SessionBridge")
        .and_then(|module| module.const_get::<_, ExceptionClass>(name))
        .unwrap_or_else(|_| ruby.exception_runtime_error())
}

static CONFIGURATION_ERROR: Lazy<ExceptionClass> = Lazy::new(|ruby| lookup(ruby, "ConfigurationError"));
static CANNOT_CONNECT_ERROR: Lazy<ExceptionClass> = Lazy::new(|ruby| lookup(ruby, "CannotConnectError"));
static TIMEOUT_ERROR: Lazy<ExceptionClass> = Lazy::new(|ruby| lookup(ruby, "TimeoutError"));
static CONNECTION_ERROR: Lazy<ExceptionClass> = Lazy::new(|ruby| lookup(ruby, "ConnectionError"));
static COMMAND_ERROR: Lazy<ExceptionClass> = Lazy::new(|ruby| lookup(ruby, "CommandError"));
static SERIALIZATION_ERROR: Lazy<ExceptionClass> = Lazy::new(|ruby| lookup(ruby, "SerializationError"));
static AUTHENTICATION_ERROR: Lazy<ExceptionClass> = Lazy::new(|ruby| lookup(ruby, "AuthenticationError"));
static PERMISSION_ERROR: Lazy<ExceptionClass> = Lazy::new(|ruby| lookup(ruby, "PermissionError"));
static ERROR: Lazy<ExceptionClass> = Lazy::new(|ruby| lookup(ruby, "Error"));

/// Maps a core error to its Ruby exception.
pub fn to_ruby(ruby: &Ruby, error: core::Error) -> Error {
    let class = match &error {
        core::Error::Configuration(_) => &CONFIGURATION_ERROR,
        core::Error::CannotConnect(_) => &CANNOT_CONNECT_ERROR,
        core::Error::Timeout(_) => &TIMEOUT_ERROR,
        core::Error::Connection(_) => &CONNECTION_ERROR,
        core::Error::Command { code, .. } => match code.as_str() {
            "WRONGPASS" | "NOAUTH" => &AUTHENTICATION_ERROR,
            "NOPERM" => &PERMISSION_ERROR,
            _ => &COMMAND_ERROR,
        },
        core::Error::Serialization(_) => &SERIALIZATION_ERROR,
        core::Error::Argument(message) => return raise_later(ruby, ruby.exception_arg_error(), message),
    };
    raise_later(ruby, ruby.get_inner(class), &error.message())
}

/// An error of the gem's base class, for failures inside the binding itself.
pub fn internal(ruby: &Ruby, message: &str) -> Error {
    raise_later(ruby, ruby.get_inner(&ERROR), message)
}

/// Builds now any exception magnus would build later (a conversion's TypeError or RangeError).
pub fn settle(ruby: &Ruby, error: Error) -> Error {
    match error.error_type() {
        ErrorType::Error(class, message) => raise_later(ruby, *class, message),
        _ => error,
    }
}

/// The exception, instantiated now; or, when instantiating it raised (an interrupt delivered
/// meanwhile), what was raised instead.
fn raise_later(ruby: &Ruby, class: ExceptionClass, message: &str) -> Error {
    match class.new_instance((ruby.str_new(message),)) {
        Ok(exception) => exception.into(),
        Err(raised) => raised,
    }
}
