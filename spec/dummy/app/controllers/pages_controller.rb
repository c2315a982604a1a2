# frozen_string_literal: true

class PagesController < ApplicationController
  before_action :authenticate_user!, only: %i[dashboard ping bridge]
  before_action :authenticate_admin!, only: :admin_area

  def home
    render plain: "home"
  end

  def dashboard
    render plain: "dashboard of #{current_user.email}"
  end

  def ping
    render plain: "pong"
  end

  # The page of e2e/browser.test.js: a websocket to the Node.js server at SOCKET_URL, with the cookie.
  def bridge
    @socket_url = ENV.fetch("SOCKET_URL", "http://127.0.0.1:3001")
  end

  def admin_area
    render plain: "admin area of #{current_admin.email}"
  end

  # A sign-in from app code (an SSO callback, an invitation link): Devise's sign_in, no Devise
  # controller, no after_sign_in_path_for.
  def app_sign_in
    sign_in(User.find_by!(email: params.require(:email)))
    render plain: "signed in"
  end
end
