# frozen_string_literal: true

require "rails_helper"

RSpec.describe "Cookies the browser would not keep, and cookies planted beside ours" do
  let(:user) { create_user }
  let(:browser) { new_browser }

  it "publishes nothing when a Secure cookie would be dropped over plain HTTP, and says so once, with the fix" do
    SessionBridge.configure { |c| c.cookie_secure = true }
    SessionBridge::Browser.instance_variable_set(:@insecure_request_reported, false)
    log = rails_log do
      3.times do
        sign_in_with_form(browser, user)
        browser.delete "/users/sign_out"
      end
    end

    expect(live_entries).to eq(0)
    expect(log.scan("publish failed: SessionBridge::InsecureRequestError").size).to eq(1)
    expect(log).to include("config.force_ssl = true").and include("cookie_secure = false")
  end

  it "publishes a Secure cookie when the sign-in comes over HTTPS" do
    SessionBridge.configure { |c| c.cookie_secure = true }
    browser.post "https://example.org/users/sign_in", user: { email: user.email, password: password }

    expect(token_set_cookie(browser)).to match(/; secure/i)
    expect(live_entries).to eq(1)
  end

  it "sets a __Host- cookie Secure, for path / and without a domain" do
    SessionBridge.configure { |c| c.cookie_name = "__Host-session_bridge" }
    browser.post "https://example.org/users/sign_in", user: { email: user.email, password: password }

    line = set_cookie_line(browser, "__Host-session_bridge")
    expect(line).to match(/; secure/i).and include("path=/")
    expect(line).not_to match(/domain=/i)
    expect(live_entries).to eq(1)
  end

  it "ignores the cookie when the header carries its name twice with different values (cookie tossing)" do
    victim = new_browser
    sign_in_with_form(victim, user)
    victim_token = issued_token(victim)
    attacker_token = SessionBridge.publish({ "user_id" => 666 })

    browser.get "/dashboard", {}, "HTTP_COOKIE" => "#{cookie_name}=#{attacker_token}; #{cookie_name}=#{victim_token}"
    expect(SessionBridge::Browser.from_env(browser.last_request.env).send(:token)).to be_nil
    browser.delete "/users/sign_out", {}, "HTTP_COOKIE" => "#{cookie_name}=#{attacker_token}; #{cookie_name}=#{victim_token}"

    expect(entry(victim_token)).to eq("user_id" => user.id, "email" => user.email)
    expect(entry(attacker_token)).to eq("user_id" => 666)
  end

  it "reads the cookie when the header repeats it with the same value" do
    token = SessionBridge.publish({ "user_id" => 1 })
    env = Rack::MockRequest.env_for("/", "HTTP_COOKIE" => "#{cookie_name}=#{token}; #{cookie_name}=#{token}")

    expect(SessionBridge::Browser.from_env(env).send(:token)).to eq(token)
  end
end
