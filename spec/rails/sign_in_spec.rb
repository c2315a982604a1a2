# frozen_string_literal: true

require "rails_helper"
require "securerandom"

RSpec.describe "Signing in through Devise" do
  let(:user) { create_user }
  let(:browser) { new_browser }

  def publishes_during(&block)
    session_bridge_events(&block).count { |e| e.name == "publish.session_bridge" }
  end

  it "publishes when the user signs in with the form, and sets an HttpOnly, SameSite=Lax cookie" do
    expect(publishes_during { sign_in_with_form(browser, user) }).to eq(1)

    expect(browser.last_response.status).to eq(302)
    expect(browser.last_response.location).to eq("http://example.org/")
    expect_entry_for(issued_token(browser), user)
    expect(live_entries).to eq(1)
  end

  it "publishes when a new browser signs in with only the remember-me cookie" do
    sign_in_with_form(browser, user, remember_me: true)
    first = issued_token(browser)
    remember_cookie = set_cookie_line(browser, "remember_user_token")
    expect(remember_cookie).not_to be_nil

    returning = new_browser
    returning.set_cookie(remember_cookie)
    returning.get "/dashboard"

    expect(returning.last_response.body).to eq("dashboard of #{user.email}")
    second = issued_token(returning)
    expect(second).not_to eq(first)
    expect_entry_for(second, user)
    expect_entry_for(first, user)
    expect(live_entries).to eq(2)
  end

  it "publishes when a user signs up" do
    expect(publishes_during do
      browser.post "/users", user: { email: "new@example.org", password: password, password_confirmation: password }
    end).to eq(1)

    expect(browser.last_response.status).to eq(302)
    expect_entry_for(issued_token(browser), User.find_by!(email: "new@example.org"))
  end

  it "publishes when a user signs up through the JSON API" do
    browser.post "/users.json", { user: { email: "api@example.org", password: password,
                                          password_confirmation: password } }.to_json,
                 "CONTENT_TYPE" => "application/json", "HTTP_ACCEPT" => "application/json"

    expect(browser.last_response.status).to eq(201)
    expect_entry_for(issued_token(browser), User.find_by!(email: "api@example.org"))
  end

  it "publishes when a password reset signs the user in" do
    browser.post "/users/password", user: { email: user.email }
    reset_token = ActionMailer::Base.deliveries.last.body.encoded[/reset_password_token=([^"&\s]+)/, 1]

    expect(publishes_during do
      browser.put "/users/password", user: { reset_password_token: reset_token, password: "a new password",
                                             password_confirmation: "a new password" }
    end).to eq(1)

    expect(browser.last_response.status).to eq(302)
    expect(browser.last_response.location).to eq("http://example.org/")
    expect_entry_for(issued_token(browser), user)
    expect(live_entries).to eq(1)
  end

  it "publishes when app code calls sign_in" do
    browser.post "/app_sign_in", email: user.email

    expect(browser.last_response.body).to eq("signed in")
    expect_entry_for(issued_token(browser), user)
  end

  it "publishes on a JSON API sign-in" do
    browser.post "/users/sign_in.json", { user: { email: user.email, password: password } }.to_json,
                 "CONTENT_TYPE" => "application/json", "HTTP_ACCEPT" => "application/json"

    expect(browser.last_response.status).to eq(201)
    expect_entry_for(issued_token(browser), user)
    expect(live_entries).to eq(1)
  end

  it "mints no second token when a signed-in user opens the sign-in page" do
    sign_in_with_form(browser, user)
    token = issued_token(browser)

    browser.get "/users/sign_in"

    expect(browser.last_response.status).to eq(302)
    expect(token_set_cookie(browser)).to be_nil
    expect(token_of(browser)).to eq(token)
    expect_entry_for(token, user)
    expect(live_entries).to eq(1)
  end

  it "revokes the previous token when the browser signs in as someone else" do
    grace = create_user("grace@example.org")
    browser.post "/app_sign_in", email: user.email
    first = issued_token(browser)

    browser.post "/app_sign_in", email: grace.email

    second = issued_token(browser)
    expect(entry(first)).to be_nil
    expect_entry_for(second, grace)
    expect(live_entries).to eq(1)
  end

  describe "a token cookie planted before sign-in (fixation)" do
    it "is never adopted: an unknown token is replaced, and nothing is stored under it" do
      planted = SecureRandom.hex(16)
      browser.set_cookie("#{cookie_name}=#{planted}")

      sign_in_with_form(browser, user)

      token = issued_token(browser)
      expect(token).not_to eq(planted)
      expect(raw_redis.hexists(store_key, planted)).to be(false)
      expect_entry_for(token, user)
      expect(live_entries).to eq(1)
    end

    it "is revoked when it is a live token of the attacker's own session" do
      mallory = create_user("mallory@example.org")
      attacker = new_browser
      sign_in_with_form(attacker, mallory)
      planted = issued_token(attacker)
      browser.set_cookie("#{cookie_name}=#{planted}")

      sign_in_with_form(browser, user)

      token = issued_token(browser)
      expect(token).not_to eq(planted)
      expect(entry(planted)).to be_nil
      expect_entry_for(token, user)
    end

    it "is replaced when a signed-in user then opens a Devise page" do
      sign_in_with_form(browser, user)
      mallory = create_user("mallory@example.org")
      attacker = new_browser
      sign_in_with_form(attacker, mallory)
      planted = issued_token(attacker)
      browser.set_cookie("#{cookie_name}=#{planted}")

      browser.get "/users/sign_in"

      token = issued_token(browser)
      expect(token).not_to eq(planted)
      expect(entry(planted)).to be_nil
      expect_entry_for(token, user)
    end
  end
end
