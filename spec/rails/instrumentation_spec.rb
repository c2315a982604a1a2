# frozen_string_literal: true

require "rails_helper"

RSpec.describe "ActiveSupport::Notifications from the hooks" do
  let(:user) { create_user }
  let(:browser) { new_browser }

  it "sends publish.session_bridge and revoke.session_bridge with store key, reason, outcome and duration" do
    events = session_bridge_events do
      sign_in_with_form(browser, user)
      browser.delete "/users/sign_out"
    end

    expect(events.map(&:name)).to eq(%w[publish.session_bridge revoke.session_bridge])
    publish, revoke = events
    expect(publish.payload).to eq(store_key: "dummySessions", reason: :sign_in, outcome: :published)
    expect(revoke.payload).to eq(store_key: "dummySessions", reason: :sign_out, outcome: :revoked)
    expect(events.map(&:duration)).to all(be >= 0)
  end

  it "never puts the token or the session data in a payload" do
    grace = create_user("grace@example.org")
    token = nil
    events = session_bridge_events do
      sign_in_with_form(browser, user)
      token = token_of(browser)
      browser.post "/app_sign_in", email: grace.email # a second sign-in revokes the first token
    end

    expect(events.map { |e| [e.name, e.payload[:reason], e.payload[:outcome]] })
      .to eq([["publish.session_bridge", :sign_in, :published],
              ["publish.session_bridge", :sign_in, :published],
              ["revoke.session_bridge", :rotation, :revoked]])
    expect(events.map(&:payload).inspect).not_to include(token)
    expect(events.map(&:payload).inspect).not_to include(user.email)
  end
end
