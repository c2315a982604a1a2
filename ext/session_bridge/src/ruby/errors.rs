//! The one place where core errors become Ruby exceptions. The classes are defined in Ruby
//! (lib/session_bridge/errors.rb, loaded before this library) and looked up once.

use magnus::{prelude::*, value::Lazy, Error, ExceptionClass, RModule, Ruby};

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
        core::Error::Argument(message) => return Error::new(ruby.exception_arg_error(), message.clone()),
    };
    Error::new(ruby.get_inner(class), error.message())
}

/// An error of the gem's base class, for failures inside the binding itself.
pub fn internal(ruby: &Ruby, message: impl Into<String>) -> Error {
    Error::new(ruby.get_inner(&ERROR), message.into())
}
