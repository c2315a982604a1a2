# frozen_string_literal: true

# A second Devise scope, for signing out of every scope at once.
class Admin < ActiveRecord::Base
  devise :database_authenticatable
end
