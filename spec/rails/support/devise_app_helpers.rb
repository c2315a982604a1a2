# frozen_string_literal: true

# Browsers (each its own cookie jar) talking to the dummy app in-process through Devise's own
# controllers, and what to check in their cookies and in Redis.
module DeviseAppHelpers
  PASSWORD = "correct horse battery staple"

  def password
    PASSWORD
  end

  def new_browser
    Rack::Test::Session.new(Rails.application)
  end

  def create_user(email = "ada@example.org", password: PASSWORD)
    User.create!(email: email, password: password)
  end

  def sign_in_with_form(browser, user, remember_me: false)
    scope = user.is_a?(Admin) ? "admin" : "user"
    browser.post("/#{scope}s/sign_in",
                 scope => { email: user.email, password: PASSWORD, remember_me: remember_me ? "1" : "0" })
  end

  def store_key
    SessionBridge.configuration.store_key
  end

  def cookie_name
    SessionBridge.configuration.cookie_name
  end

  # The token cookie the browser holds now (nil when it holds none).
  def token_of(browser)
    value = browser.cookie_jar[cookie_name]
    value unless value.nil? || value.empty?
  end

  # The Set-Cookie line for the token cookie in the browser's last response, or nil.
  def token_set_cookie(browser)
    set_cookie_line(browser, cookie_name)
  end

  def set_cookie_line(browser, name)
    browser.last_response.headers["Set-Cookie"].to_s.split("\n").find { |line| line.start_with?("#{name}=") }
  end

  # Checks the token cookie the last response set (32 hex characters, HttpOnly, SameSite=Lax,
  # path /, not Secure outside production) and returns the token.
  def issued_token(browser)
    line = token_set_cookie(browser)
    expect(line).to match(/\A#{cookie_name}=[0-9a-f]{32};/)
    expect(line).to include("HttpOnly").and include("path=/").and match(/SameSite=Lax/i)
    expect(line).not_to match(/secure/i)
    token = line[/=([0-9a-f]{32});/, 1]
    expect(token_of(browser)).to eq(token)
    token
  end

  def expect_cookie_deleted(browser)
    expect(token_set_cookie(browser)).to match(/\A#{cookie_name}=;.*max-age=0/i)
    expect(token_of(browser)).to be_nil
  end

  # The JSON stored under the token, parsed, read with a plain redis-rb client; nil when absent.
  def entry(token)
    json = raw_redis.hget(store_key, token)
    json && JSON.parse(json)
  end

  def expect_entry_for(token, user)
    expect(entry(token)).to eq("user_id" => user.id, "email" => user.email)
  end

  def live_entries
    raw_redis.hlen(store_key)
  end

  # Every *.session_bridge notification sent while the block runs, as ActiveSupport events.
  def session_bridge_events
    events = []
    subscriber = ActiveSupport::Notifications.subscribe(/\.session_bridge\z/) do |*args|
      events << ActiveSupport::Notifications::Event.new(*args)
    end
    yield
    events
  ensure
    ActiveSupport::Notifications.unsubscribe(subscriber)
  end

  # What Rails.logger received while the block ran.
  def rails_log
    io = StringIO.new
    original = Rails.logger
    Rails.logger = ActiveSupport::Logger.new(io)
    yield
    io.string
  ensure
    Rails.logger = original
  end
end
