# frozen_string_literal: true

require "rails_helper"

RSpec.describe "Changing the account through Devise's registration form" do
  let(:user) { create_user }
  let(:current) { new_browser }
  let(:other) { new_browser }

  def signed_in_twice
    sign_in_with_form(current, user)
    sign_in_with_form(other, user)
    [issued_token(current), issued_token(other)]
  end

  it "revokes the user's other browsers on a password change, and gives this one a fresh token" do
    old_token, other_token = signed_in_twice
    bystander = create_user("grace@example.org")
    bystander_browser = new_browser
    sign_in_with_form(bystander_browser, bystander)
    bystander_token = issued_token(bystander_browser)

    current.put "/users", user: { email: user.email, password: "a new password", password_confirmation: "a new password",
                                  current_password: password }

    expect(current.last_response.status).to eq(302)
    fresh = issued_token(current)
    expect(fresh).not_to eq(old_token)
    expect_entry_for(fresh, user)
    expect(entry(old_token)).to be_nil
    expect(entry(other_token)).to be_nil
    expect_entry_for(bystander_token, bystander)
    current.get "/dashboard"
    expect(current.last_response.status).to eq(200)
    other.get "/dashboard" # Devise has signed the other browser out too
    expect(other.last_response.location).to eq("http://example.org/users/sign_in")
  end

  it "revokes the user's other browsers when a password reset signs the user in" do
    _, other_token = signed_in_twice
    resetting = new_browser
    resetting.post "/users/password", user: { email: user.email }
    reset_token = ActionMailer::Base.deliveries.last.body.encoded[/reset_password_token=([^"&\s]+)/, 1]

    resetting.put "/users/password", user: { reset_password_token: reset_token, password: "a new password",
                                             password_confirmation: "a new password" }

    expect_entry_for(issued_token(resetting), user)
    expect(entry(other_token)).to be_nil
    expect(live_entries).to eq(1)
  end

  it "replaces only this browser's token when the email changes but the password does not" do
    old_token, other_token = signed_in_twice

    current.put "/users", user: { email: "ada.lovelace@example.org", current_password: password }

    fresh = issued_token(current)
    expect(entry(fresh)).to eq("user_id" => user.id, "email" => "ada.lovelace@example.org")
    expect(entry(old_token)).to be_nil
    expect_entry_for(other_token, user)
  end
end
