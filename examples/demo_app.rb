# frozen_string_literal: true

# A minimal Rack app (Action Pack, no full Rails) whose ApplicationController includes
# SessionBridge exactly as a Devise app does. DemoAuth stands in for Devise's controller helpers:
# it supplies the after_sign_in_path_for / after_sign_out_path_for that SessionBridge wraps.
require "action_controller"
require "active_support/cache"
require "session_bridge"

module DemoAuth
  def after_sign_in_path_for(_user)
    "/dashboard"
  end

  def after_sign_out_path_for(_scope)
    "/"
  end
end

DemoUser = Struct.new(:id, :email)

class DemoApplicationController < ActionController::Base
  include DemoAuth
  include SessionBridge
end

class DemoSessionsController < DemoApplicationController
  def create
    user = DemoUser.new(Integer(params.fetch(:id, 42)), params.fetch(:email, "ada@example.com"))
    session[:user_id] = user.id
    redirect_to after_sign_in_path_for(user)
  end

  def destroy
    reset_session
    redirect_to after_sign_out_path_for(:user)
  end
end

DemoRoutes = ActionDispatch::Routing::RouteSet.new
DemoRoutes.draw do
  post "/sign_in" => "demo_sessions#create"
  delete "/sign_out" => "demo_sessions#destroy"
end

DemoApp = Rack::Builder.new do
  use ActionDispatch::Cookies
  use ActionDispatch::Session::CacheStore, cache: ActiveSupport::Cache::MemoryStore.new, key: "_demo_session"
  run DemoRoutes
end.to_app
