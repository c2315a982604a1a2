# frozen_string_literal: true

require "rails_helper"

RSpec.describe "Signing out through Devise" do
  let(:user) { create_user }
  let(:browser) { new_browser }

  it "revokes the entry and deletes the cookie when the user signs out" do
    sign_in_with_form(browser, user)
    token = issued_token(browser)

    browser.delete "/users/sign_out"

    expect(browser.last_response.status).to eq(302)
    expect_cookie_deleted(browser)
    expect(entry(token)).to be_nil
    expect(live_entries).to eq(0)
  end

  it "revokes on a JSON API sign-out, where Devise calls no after_sign_out_path_for" do
    sign_in_with_form(browser, user)
    token = issued_token(browser)

    browser.delete "/users/sign_out.json", nil, "HTTP_ACCEPT" => "application/json"

    expect(browser.last_response.status).to eq(204)
    expect_cookie_deleted(browser)
    expect(entry(token)).to be_nil
  end

  it "revokes when the user deletes the account" do
    sign_in_with_form(browser, user)
    token = issued_token(browser)

    browser.delete "/users"

    expect(User.exists?(user.id)).to be(false)
    expect_cookie_deleted(browser)
    expect(entry(token)).to be_nil
  end

  it "revokes once when every scope signs out at once" do
    admin = Admin.create!(email: "root@example.org", password: password)
    sign_in_with_form(browser, user)
    sign_in_with_form(browser, admin)
    token = issued_token(browser)
    expect(live_entries).to eq(1) # the admin's sign-in replaced the user's token

    events = session_bridge_events { browser.delete "/users/sign_out" }

    expect_cookie_deleted(browser)
    expect(entry(token)).to be_nil
    expect(live_entries).to eq(0)
    expect(events.map { |e| [e.name, e.payload[:reason]] }).to eq([["revoke.session_bridge", :sign_out]])
    browser.get "/admin_area"
    expect(browser.last_response.location).to eq("http://example.org/admins/sign_in")
  end

  context "when Devise signs out one scope at a time" do
    around do |example|
      Devise.sign_out_all_scopes = false
      example.run
    ensure
      Devise.sign_out_all_scopes = true
    end

    it "keeps the token while the scope it was issued to stays signed in" do
      admin = Admin.create!(email: "root@example.org", password: password)
      sign_in_with_form(browser, admin)
      sign_in_with_form(browser, user)
      token = issued_token(browser)

      browser.delete "/admins/sign_out"

      expect(token_set_cookie(browser)).to be_nil
      expect_entry_for(token, user)
      browser.delete "/users/sign_out"
      expect_cookie_deleted(browser)
      expect(entry(token)).to be_nil
    end
  end

  it "revokes the entry when the user times out" do
    sign_in_with_form(browser, user)
    token = issued_token(browser)

    travel(Devise.timeout_in + 1.minute)
    browser.get "/dashboard"

    expect(browser.last_response.status).to eq(302) # Devise's failure app, flash "timed out"
    expect_cookie_deleted(browser)
    expect(entry(token)).to be_nil
    browser.get "/dashboard"
    expect(browser.last_response.location).to eq("http://example.org/users/sign_in")
  end

  it "deletes a stale cookie when a signed-out browser signs out" do
    browser.set_cookie("#{cookie_name}=#{'0' * 32}")

    browser.delete "/users/sign_out"

    expect_cookie_deleted(browser)
  end
end
