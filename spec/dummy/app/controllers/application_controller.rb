# frozen_string_literal: true

class ApplicationController < ActionController::Base
  include SessionBridge

  respond_to :html, :json # Devise's controllers answer JSON API clients too

  # A failed CSRF check resets the session, and Devise then signs every scope out.
  protect_from_forgery with: :reset_session
end
