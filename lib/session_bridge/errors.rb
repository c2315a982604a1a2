# frozen_string_literal: true

module SessionBridge
  # Base class of every error the gem raises: `rescue SessionBridge::Error` catches them all.
  class Error < StandardError; end

  # Redis could not be reached or stopped answering; the operation may be retried later.
  class ConnectionError < Error; end

  # No connection could be opened within connect_timeout (refused, unreachable, bad host).
  class CannotConnectError < ConnectionError; end

  # Redis did not answer within read_timeout or accept the request within write_timeout.
  class TimeoutError < ConnectionError; end

  # Redis answered with an error (wrong type under store_key, out of memory...).
  class CommandError < Error; end

  # Redis refused the credentials in redis_url (WRONGPASS, NOAUTH). Never retried.
  class AuthenticationError < CommandError; end

  # The Redis ACL user in redis_url may not run a command or touch a key (NOPERM).
  class PermissionError < CommandError; end

  # The session data cannot be stored as JSON; the message names the path of the bad value.
  class SerializationError < Error; end

  # A setting is invalid; raised by SessionBridge.configure, which then keeps the old settings.
  class ConfigurationError < Error; end

  # A sign-in arrived over plain HTTP while the cookie is Secure, so nothing was published (the
  # browser would never get the cookie). Reported once per process through on_error.
  class InsecureRequestError < ConfigurationError; end
end
