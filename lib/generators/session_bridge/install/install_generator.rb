# frozen_string_literal: true

require "rails/generators/base"

module SessionBridge
  module Generators
    # `rails generate session_bridge:install` writes config/initializers/session_bridge.rb, where
    # every option is listed with its default and what it does.
    class InstallGenerator < ::Rails::Generators::Base
      source_root File.expand_path("templates", __dir__)
      desc "Creates config/initializers/session_bridge.rb, documenting every session_bridge option."

      def copy_initializer
        template "initializer.rb.tt", "config/initializers/session_bridge.rb"
      end

      def show_next_step
        say "Add `include SessionBridge` to ApplicationController: Devise sign-ins then publish and sign-outs revoke."
      end
    end
  end
end
