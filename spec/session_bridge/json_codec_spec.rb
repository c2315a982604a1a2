# frozen_string_literal: true

RSpec.describe "The stored JSON" do
  # Random session-like data built only from the types the codec supports.
  def random_value(rng, depth)
    kinds = depth >= 6 ? %i[string int float bool nil big] : %i[string int float bool nil big hash array]
    case kinds.sample(random: rng)
    when :string then random_string(rng)
    when :int then rng.rand(-2**62..2**62)
    when :big then (rng.rand(2) == 1 ? 1 : -1) * rng.rand(2**64..2**200)
    when :float then random_float(rng)
    when :bool then rng.rand(2) == 1
    when :nil then nil
    when :hash then random_hash(rng, depth + 1)
    when :array then Array.new(rng.rand(0..5)) { random_value(rng, depth + 1) }
    end
  end

  def random_hash(rng, depth)
    Array.new(rng.rand(0..5)) do
      key = random_string(rng)
      [rng.rand(3).zero? ? key.to_sym : key, random_value(rng, depth)]
    end.to_h
  end

  def random_string(rng)
    alphabet = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u0000", "\u001f", "é", "漢", "🎉", "\u2028", "<"]
    Array.new(rng.rand(0..12)) { alphabet.sample(random: rng) }.join
  end

  def random_float(rng)
    [rng.rand * 10**rng.rand(-300..300), -rng.rand, 0.0, -0.0, 1.0, 1e20, 5e-324, 1.7976931348623157e308,
     0.1 + 0.2].sample(random: rng)
  end

  it "parses to exactly JSON.parse(JSON.generate(data)) for random nested data" do
    rng = Random.new(RSpec.configuration.seed)
    500.times do
      data = random_hash(rng, 1)
      expected = JSON.parse(JSON.generate(data))

      token = SessionBridge.publish(data)

      expect(JSON.parse(raw_redis.hget("mySessionStore", token).force_encoding("UTF-8"))).to eq(expected)
      expect(SessionBridge.fetch(token)).to eq(expected)
    end
  end

  it "keeps floats as Floats and integers (bignums too) as Integers" do
    data = { "f" => 1.0, "i" => 1, "big" => 2**100, "neg" => -(2**70), "tiny" => 5e-324, "exp" => 1e300 }

    back = SessionBridge.fetch(SessionBridge.publish(data))

    expect(back).to eq(data.transform_keys(&:to_s))
    expect(back.values_at("f", "tiny", "exp")).to all(be_a(Float))
    expect(back.values_at("i", "big", "neg")).to all(be_a(Integer))
  end

  it "accepts Hash and String subclasses, ASCII and binary strings that are valid UTF-8" do
    subclass = Class.new(Hash)
    data = subclass[{ "a" => "ascii".encode("US-ASCII"), "b" => "bytes".b, "c" => Class.new(String).new("sub") }]

    expect(SessionBridge.fetch(SessionBridge.publish(data))).to eq("a" => "ascii", "b" => "bytes", "c" => "sub")
  end

  it "accepts a payload of exactly max_payload_bytes" do
    configure_bridge(max_payload_bytes: 20)
    data = { "k" => "x" * 12 } # {"k":"xxxxxxxxxxxx"} is 20 bytes

    expect(SessionBridge.fetch(SessionBridge.publish(data))).to eq(data)
  end
end
