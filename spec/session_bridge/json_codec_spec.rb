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

  it "reads integers of any size back exactly, and floats as the very same Floats" do
    data = { "u64" => 2**64, "neg" => -(2**70), "big" => 10**40, "i64_max" => 2**63 - 1, "i64_min" => -(2**63),
             "half" => 1.5, "huge" => 1e300, "negative_zero" => -0.0, "tiny" => 5e-324 }
    json = SessionBridge::Native.dump_json(data, 1 << 20)

    back = SessionBridge::Native.load_json(json)

    expect(back).to eq(data).and eq(JSON.parse(json))
    expect(back.values_at("u64", "neg", "big", "i64_max", "i64_min")).to all(be_a(Integer))
    expect(back["negative_zero"].to_s).to eq("-0.0") # eq alone cannot tell -0.0 from 0.0
    expect(SessionBridge.fetch(SessionBridge.publish(data))).to eq(data)
  end

  it "reads numbers as JSON.parse does: no fraction or exponent is an Integer, -0 is 0" do
    json = '{"a":-0,"b":-0.0,"c":1E2,"d":1e-7,"e":0.1,"f":-123456789012345678901234567890,"g":18446744073709551615}'

    back = SessionBridge::Native.load_json(json)

    expect(back).to eq(JSON.parse(json))
    expect(back.transform_values(&:class)).to eq(JSON.parse(json).transform_values(&:class))
  end

  it "gives frozen String keys and mutable UTF-8 String values, as JSON.parse does" do
    back = SessionBridge::Native.load_json('{"k\\u00e9y":"v","list":[{"k\\u00e9y":"w"}]}')

    expect(back.keys).to all(be_frozen)
    expect(back.keys.first).to equal(back["list"][0].keys.first) # one String for a repeated key
    expect(back["k\u00e9y"]).not_to be_frozen
    expect([back.keys.first, back["k\u00e9y"]].map(&:encoding)).to all(eq(Encoding::UTF_8))
  end

  it "reads a key that looks like serde_json's private number key as a plain key" do
    json = '{"$serde_json::private::Number":"1.5","n":{"$serde_json::private::Number":"2"}}'

    expect(SessionBridge::Native.load_json(json)).to eq(JSON.parse(json))
  end

  it "builds the Hash safely while the GC runs at every allocation" do
    json = JSON.generate("s" => "plain", "escaped\n" => ["tab\t", "\u{1F600}"], "n" => [1, 2**64, -(2**70), 1.5, 1e300],
                         "nested" => { "deeper" => [{ "escaped\n" => nil, "t" => true, "f" => false }] })
    expected = JSON.parse(json)

    back = begin
      GC.stress = true
      SessionBridge::Native.load_json(json)
    ensure
      GC.stress = false
    end

    expect(back).to eq(expected)
  end

  it "reads a stored entry nested 128 levels in all, and refuses one nested a level deeper" do
    nested = ->(levels) { %({"a":#{"[" * (levels - 1)}#{"]" * (levels - 1)}}) }
    raw_redis.hset("mySessionStore", "a" * 32, nested.call(128), "b" * 32, nested.call(129))

    expect(SessionBridge.fetch("a" * 32)).to eq(JSON.parse(nested.call(128), max_nesting: false))
    expect { SessionBridge.fetch("b" * 32) }.to raise_error(SessionBridge::SerializationError, /nest/)
    expect { SessionBridge::Native.load_json(nested.call(20_000)) }.to raise_error(SessionBridge::SerializationError)
  end

  it "refuses a stored entry with a lone surrogate escape, without quoting the entry" do
    ['{"secret":"hunter2\\ud800"}', '{"secret":"hunter2\\udc00x"}', '{"secret":"hunter2\\ud800\\u0041"}'].each do |json|
      raw_redis.hset("mySessionStore", "c" * 32, json)

      expect { SessionBridge.fetch("c" * 32) }.to raise_error(SessionBridge::SerializationError) { |error|
        expect(error.message).to match(/surrogate|escape/).and(satisfy { |message| !message.include?("hunter2") })
      }
    end
    expect(SessionBridge::Native.load_json('{"s":"\\ud83d\\ude00"}')).to eq("s" => "\u{1F600}")
  end

  malformed = {
    "a top-level array" => '["hunter2"]',
    "a top-level string" => '"hunter2"',
    "a top-level number" => "12345",
    "nothing" => "  ",
    "trailing characters" => '{"a":"hunter2"}x',
    "a second document" => '{"a":"hunter2"} {}',
    "a control character in a string" => "{\"a\":\"hunter2\u0001\"}",
    "invalid UTF-8 in a string" => "{\"a\":\"hunter2\xff\"}",
    "an unknown escape" => '{"a":"hunter2\\x"}',
    "an unterminated string" => '{"a":"hunter2',
    "a leading zero" => '{"a":0123}',
    "a trailing comma" => '{"a":"hunter2",}',
    "NaN" => '{"a":NaN}',
    "a comment" => '{"a":1 /* hunter2 */}'
  }
  malformed.each do |name, json|
    it "refuses #{name} with SerializationError, without quoting the entry" do
      expect { SessionBridge::Native.load_json(json.b) }.to raise_error(SessionBridge::SerializationError) { |error|
        expect(error.message).not_to include("hunter2", "12345")
      }
    end
  end

  it "reads back what dump_json writes exactly as JSON.parse does, for random nested data" do
    rng = Random.new(RSpec.configuration.seed)
    2000.times do
      json = SessionBridge::Native.dump_json(random_hash(rng, 1), 1 << 20)

      expect(SessionBridge::Native.load_json(json)).to eq(JSON.parse(json))
    end
  end

  it "either reads damaged JSON as JSON.parse does or raises SerializationError, never anything else" do
    rng = Random.new(RSpec.configuration.seed)
    pieces = ["{", "}", "[", "]", ":", ",", '"', '"a":', "0", "1", "-", ".", "e", "E", "+", "true", "nul", "\\",
              "\\u", "\\ud83d", " ", "\n", "\u00e9", "\u0001", "\xff".b, ""]
    2000.times do
      damaged = SessionBridge::Native.dump_json(random_hash(rng, 4), 1 << 20)
      rng.rand(1..2).times do
        at = rng.rand(damaged.bytesize)
        damaged = damaged.byteslice(0, at).b + pieces.sample(random: rng).b + damaged.byteslice((at + 1)..).b
      end
      noise = Array.new(rng.rand(0..64)) { rng.rand(256) }.pack("C*")
      [damaged, noise, "{\"k\":".b + noise].each do |input|
        back = begin
          SessionBridge::Native.load_json(input)
        rescue SessionBridge::SerializationError
          next
        end
        expect(back).to eq(JSON.parse(input)), input.inspect
      end
    end
  end

  it "accepts a payload of exactly max_payload_bytes" do
    configure_bridge(max_payload_bytes: 20)
    data = { "k" => "x" * 12 } # {"k":"xxxxxxxxxxxx"} is 20 bytes

    expect(SessionBridge.fetch(SessionBridge.publish(data))).to eq(data)
  end
end
