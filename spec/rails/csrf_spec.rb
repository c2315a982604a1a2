# frozen_string_literal: true

require "rails_helper"

RSpec.describe "A request failing the CSRF check" do
  let(:user) { create_user }
  let(:browser) { new_browser }

  around do |example|
    example.run
  ensure
    ActionController::Base.allow_forgery_protection = false
  end

  def sign_in_then_protect
    sign_in_with_form(browser, user)
    token = issued_token(browser)
    ActionController::Base.allow_forgery_protection = true
    token
  end

  it "revokes the entry and deletes the cookie when Devise signs everyone out (:reset_session)" do
    token = sign_in_then_protect

    browser.post "/dashboard/ping" # no authenticity token

    expect(browser.last_response.location).to eq("http://example.org/users/sign_in")
    expect_cookie_deleted(browser)
    expect(entry(token)).to be_nil
  end

  context "with protect_from_forgery with: :null_session" do
    around do |example|
      ApplicationController.forgery_protection_strategy =
        ActionController::RequestForgeryProtection::ProtectionMethods::NullSession
      example.run
    ensure
      ApplicationController.forgery_protection_strategy =
        ActionController::RequestForgeryProtection::ProtectionMethods::ResetSession
    end

    it "keeps the entry: the real session was never signed out" do
      token = sign_in_then_protect

      browser.post "/dashboard/ping"

      expect(token_set_cookie(browser)).to be_nil
      browser.get "/dashboard"
      expect(browser.last_response.body).to eq("dashboard of #{user.email}")
      expect(token_of(browser)).to eq(token)
      expect_entry_for(token, user)
    end
  end
end
