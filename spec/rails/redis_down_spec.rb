# frozen_string_literal: true

require "rails_helper"

RSpec.describe "Signing in and out while Redis is down" do
  let(:user) { create_user("ada.s3cret@example.org") }
  let(:browser) { new_browser }

  # Stops the suite's redis-server around the block, and starts it again on the same port.
  def with_redis_stopped
    redis_server.stop
    yield
  ensure
    redis_server.start
  end

  it "signs in without a cookie, and reports the error to the Rails log and notifications without the payload" do
    events = []
    log = rails_log do
      events = session_bridge_events { with_redis_stopped { sign_in_with_form(browser, user) } }
    end

    expect(browser.last_response.status).to eq(302)
    expect(browser.last_response.location).to eq("http://example.org/")
    expect(token_set_cookie(browser)).to be_nil
    browser.get "/dashboard"
    expect(browser.last_response.body).to eq("dashboard of #{user.email}")
    expect(log).to match(/\[session_bridge\] publish failed: SessionBridge::\w+Error/)
    expect(log).not_to include(user.email)
    publish = events.find { |e| e.name == "publish.session_bridge" }
    expect(publish.payload).to include(store_key: "dummySessions", reason: :sign_in, outcome: :failed)
    error = events.find { |e| e.name == "error.session_bridge" }
    expect(error.payload).to include(operation: :publish)
    expect(SessionBridge::ConnectionError >= Object.const_get(error.payload[:error_class])).to be(true)
    expect(events.map(&:payload).inspect).not_to include(user.email)
  end

  it "deletes the cookie on sign-out, and reports the error without the token" do
    sign_in_with_form(browser, user)
    token = issued_token(browser)

    events = []
    log = rails_log do
      events = session_bridge_events { with_redis_stopped { browser.delete "/users/sign_out" } }
    end

    expect(browser.last_response.status).to eq(302)
    expect_cookie_deleted(browser)
    expect(log).to match(/\[session_bridge\] revoke failed: SessionBridge::\w+Error/)
    expect(log).not_to include(token)
    expect(events.map(&:name)).to eq(%w[revoke.session_bridge error.session_bridge])
    expect(events.first.payload).to include(reason: :sign_out, outcome: :failed)
    expect(events.map(&:payload).inspect).not_to include(token)
  end

  it "fails the sign-in with on_error: :raise" do
    configure_bridge(on_error: :raise)

    with_redis_stopped do
      expect { sign_in_with_form(browser, user) }.to raise_error(SessionBridge::ConnectionError)
    end
  end

  it "hands the error to an on_error callable" do
    seen = []
    configure_bridge(on_error: ->(error, operation) { seen << [error.class.superclass, operation] })

    with_redis_stopped { sign_in_with_form(browser, user) }

    expect(seen).to eq([[SessionBridge::ConnectionError, :publish]])
    expect(browser.last_response.location).to eq("http://example.org/")
  end
end
