# frozen_string_literal: true

Rails.application.routes.draw do
  devise_for :users
  devise_for :admins

  root to: "pages#home"
  get "/dashboard" => "pages#dashboard"
  post "/dashboard/ping" => "pages#ping"
  get "/admin_area" => "pages#admin_area"
  post "/app_sign_in" => "pages#app_sign_in"
  get "/bridge" => "pages#bridge"
end
