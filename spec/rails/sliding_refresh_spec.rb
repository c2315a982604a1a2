# frozen_string_literal: true

require "rails_helper"

RSpec.describe "Sliding expiry of a signed-in browser's entry (refresh_interval)" do
  let(:user) { create_user }
  let(:browser) { new_browser }

  def expiry_of(token)
    raw_redis.zscore("#{store_key}:expires", token)
  end

  # Scripts Redis has run (every session_bridge write is one).
  def scripts_run
    command_calls("evalsha", "eval")
  end

  def touches_during(&block)
    session_bridge_events(&block).count { |e| e.name == "touch.session_bridge" }
  end

  context "with refresh_interval 60" do
    before { configure_bridge(refresh_interval: 60) }

    it "touches the entry at most once per interval, on the signed-in user's requests" do
      sign_in_with_form(browser, user)
      token = issued_token(browser)
      published_expiry = expiry_of(token)

      expect(touches_during { 3.times { browser.get "/dashboard" } }).to eq(0)
      travel 30.seconds
      expect(touches_during { browser.get "/dashboard" }).to eq(0)
      travel 31.seconds
      expect(touches_during { 3.times { browser.get "/dashboard" } }).to eq(1)
      expect(expiry_of(token)).to be > published_expiry
      travel 61.seconds
      expect(touches_during { 2.times { browser.get "/dashboard" } }).to eq(1)
      expect_entry_for(token, user)
    end

    it "makes no Redis call for the requests in between" do
      sign_in_with_form(browser, user)
      before = scripts_run

      5.times { browser.get "/dashboard" }
      expect(scripts_run).to eq(before)
      travel 61.seconds
      browser.get "/dashboard"
      expect(scripts_run).to be > before # the touch (EVALSHA, then EVAL the first time)
    end

    it "drops the cookie when the entry is gone (revoked elsewhere)" do
      sign_in_with_form(browser, user)
      token = issued_token(browser)
      SessionBridge.revoke(token)

      travel 61.seconds
      browser.get "/dashboard"

      expect(browser.last_response.body).to eq("dashboard of #{user.email}")
      expect_cookie_deleted(browser)
    end

    it "does not touch an unknown token planted in the cookie" do
      sign_in_with_form(browser, user)
      planted = SecureRandom.hex(16)
      browser.set_cookie("#{cookie_name}=#{planted}")

      travel 61.seconds
      expect(touches_during { browser.get "/dashboard" }).to eq(0)
    end
  end

  it "is off by default" do
    sign_in_with_form(browser, user)

    travel 10.minutes
    expect(touches_during { browser.get "/dashboard" }).to eq(0)
  end
end
