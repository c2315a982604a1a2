# frozen_string_literal: true

# bin/demo's script, run as bin/demo runs it (after setup): both ends of the bridge, for real.
RSpec.describe "examples/demo.rb" do
  it "signs in through Rails, is greeted by the README's Node.js server, and sees its socket dropped on sign-out" do
    demo = File.expand_path("../examples/demo.rb", __dir__)
    output, status = Open3.capture2e({ "REDIS_URL" => nil }, RbConfig.ruby, demo)

    expect(status.success?).to be(true), output
    expect(output).to include("Node.js says: hello ada@example.com")
    expect(output).to match(/the live socket: disconnected \(io server disconnect\) \d+ ms after/)
    expect(output).to include("Node.js: refused (unauthorized)")
    expect(output).to match(/HGET mySessionStore \h{32}  => nil/)
    expect(output[/(\d+) ms after/, 1].to_i).to be < 1000
  end
end
