# frozen_string_literal: true

module Bench
  # The session hashes every variant stores, built deterministically so their JSON sizes are the
  # same from run to run. String keys, as a Rails app's session_data block would return.
  module Payloads
    module_function

    # ~200 bytes of JSON: what `session_data { |user| ... }` typically returns.
    def small
      {
        "user_id" => 48_213,
        "username" => "ada.lovelace",
        "email" => "ada.lovelace@example.com",
        "roles" => %w[admin editor viewer],
        "admin" => true,
        "confirmed" => true,
        "locale" => "en-GB",
        "tenant_id" => 17,
        "signed_in_at" => 1_717_171_717
      }
    end

    # ~2 KB: a session that also carries permissions, preferences and recent projects.
    def medium
      small.merge(
        "display_name" => "Ada Lovelace (Analytical Engines Ltd.)",
        "permissions" => %w[projects:read projects:write billing:read members:invite members:remove
                            reports:export audit:read webhooks:manage],
        "preferences" => { "theme" => "dark", "timezone" => "Europe/London", "digest" => "weekly",
                           "notifications" => { "email" => true, "push" => false, "sms" => nil } },
        "recent_projects" => Array.new(15) do |i|
          { "id" => 9_000 + i, "name" => "Difference engine, part #{i}", "starred" => i.even?,
            "score" => 0.25 * i, "opened_at" => 1_717_000_000 + (i * 3_600) }
        end
      )
    end

    # ~64 KB, the default max_payload_bytes: the largest session the gem accepts by default.
    def large
      medium.merge(
        "activity" => Array.new(480) do |i|
          { "at" => 1_716_000_000 + (i * 61), "action" => %w[sign_in view edit export][i % 4],
            "path" => "/projects/#{9_000 + (i % 12)}/documents/#{i}", "ok" => i % 7 != 0,
            "ms" => 12.5 + i, "note" => "Zürich → London ✓ ##{i}" }
        end
      )
    end

    def all
      { "small" => small, "medium" => medium, "large" => large }
    end
  end
end
