# frozen_string_literal: true

RSpec.describe SessionBridge::SerializationError do
  before { SessionBridge.publish({ "existing" => true }) }

  def deep(levels)
    levels.times.reduce({}) { |inner, _| { "a" => inner } }
  end

  cyclic_hash = {}.tap { |h| h["self"] = h }
  cyclic_array = [1].tap { |a| a << a }
  sneaky_cycle = { "list" => [{ "inner" => nil }] }.tap { |h| h["list"][0]["inner"] = h }

  cases = {
    "a Time" => [{ "roles" => ["admin", "user", Time.at(0)] }, 'data["roles"][2] is a Time'],
    "an arbitrary object" => [{ "user" => Object.new }, 'data["user"] is a Object'],
    "a Symbol value" => [{ "role" => :admin }, 'data["role"] is a Symbol'],
    "NaN" => [{ "score" => Float::NAN }, 'data["score"] is NaN or Infinity'],
    "Infinity" => [{ "n" => [Float::INFINITY] }, 'data["n"][0] is NaN or Infinity'],
    "-Infinity" => [{ "n" => -Float::INFINITY }, 'data["n"] is NaN or Infinity'],
    "an invalid UTF-8 string" => [{ "name" => "caf\xE9".b }, 'data["name"] is not a valid UTF-8 string'],
    "an invalid UTF-8 string in UTF-8" => [{ "s" => +"\xff\xfe" }, 'data["s"] is not a valid UTF-8 string'],
    "a string in another encoding" => [{ "s" => "café".encode("ISO-8859-1") }, 'data["s"] is not a valid UTF-8'],
    "an invalid UTF-8 key" => [{ "ok" => { "\xff".b => 1 } }, %(the key of data["ok"]["\uFFFD"] is not a valid UTF-8 string)],
    "a key in another encoding" => [{ "caf\xE9".dup.force_encoding("ISO-8859-1") => 1 },
                                    %(the key of data["caf\uFFFD"] is not a valid UTF-8 string)],
    "an Integer key" => [{ "ids" => { 1 => "one" } }, 'data["ids"] has a Integer key'],
    "a nil key" => [{ nil => 1 }, "data has a NilClass key"],
    "a cyclic Hash" => [cyclic_hash, 'data["self"] contains itself'],
    "a cyclic Array" => [{ "a" => cyclic_array }, 'data["a"][1] contains itself'],
    "a cycle through an Array" => [sneaky_cycle, 'data["list"][0]["inner"] contains itself'],
    "an Array at the top" => [[1, 2], "session data must be a Hash, got a Array"],
    "nil at the top" => [nil, "session data must be a Hash, got a NilClass"],
    "a String at the top" => ['{"user_id":1}', "session data must be a Hash, got a String"]
  }

  cases.each do |name, (data, message)|
    it "is raised for #{name}, naming the path, and writes nothing" do
      before = redis_snapshot

      expect { SessionBridge.publish(data) }.to raise_error(described_class, /\A#{Regexp.escape(message)}/)
      expect(redis_snapshot).to eq(before)
    end
  end

  it "is raised for nesting deeper than the documented limit, and writes nothing" do
    before = redis_snapshot
    expect(SessionBridge::Native::MAX_DEPTH).to eq(32)

    expect(SessionBridge.fetch(SessionBridge.publish(deep(31)))).to eq(JSON.parse(JSON.generate(deep(31))))
    expect { SessionBridge.publish(deep(32)) }
      .to raise_error(described_class, /nests Hashes and Arrays deeper than 32 levels/)
    expect { SessionBridge.publish(deep(100_000)) }.to raise_error(described_class, /deeper than 32/)
    expect(redis_snapshot.keys).to eq(before.keys)
  end

  it "is raised for a payload over max_payload_bytes, and writes nothing" do
    configure_bridge(max_payload_bytes: 1024)
    before = redis_snapshot

    expect { SessionBridge.publish({ "blob" => "x" * 2000 }) }
      .to raise_error(described_class, /data\["blob"\] grows the JSON past max_payload_bytes \(1024 bytes\)/)
    expect { SessionBridge.publish({ "many" => Array.new(1000) { 1 } }) }
      .to raise_error(described_class, /max_payload_bytes/)
    expect(redis_snapshot).to eq(before)
  end

  it "refuses a 100 MB string without copying it" do
    huge = "x" * 100_000_000
    error, seconds = timed { SessionBridge.publish({ "huge" => huge }) }

    expect(error).to be_a(described_class)
    expect(seconds).to be < 0.5
  end

  it "never includes the offending value in the message" do
    expect { SessionBridge.publish({ "secret" => "hunter2\xff".b }) }
      .to raise_error(described_class) { |e| expect(e.message).not_to include("hunter2") }
  end

  it "is a SessionBridge::Error" do
    expect(described_class.ancestors).to include(SessionBridge::Error, StandardError)
  end
end
