# frozen_string_literal: true

module SessionBridge
  VERSION = "0.1.0"
end
