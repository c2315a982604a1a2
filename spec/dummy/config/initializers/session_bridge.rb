# frozen_string_literal: true

# config.session_bridge in config/application.rb (store_key) is already applied; this adds to it.
# redis_url is left to the specs, which point it at their own redis-server.
SessionBridge.configure do |config|
  config.session_data { |user| { "user_id" => user.id, "email" => user.email } }
end
