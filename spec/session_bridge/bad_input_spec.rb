# frozen_string_literal: true

RSpec.describe "Bad input" do
  huge = "x" * 20_000_000
  invalid_utf8 = "\xC3\x28".b
  crlf = "0123456789abcdef\r\n0123456789abcd"
  deep = 10_000.times.reduce([]) { |inner, _| [inner] }
  cyclic = {}.tap { |h| h["me"] = [h] }
  # Values JSON can hold (so they may appear inside session data) and values it cannot.
  storable = [nil, 0, -1, 2**100, 1.5, "", crlf, "\u0000" * 32, "0123456789abcdef0123456789abcde\u00e9", [1],
              { "a" => 1 }, true]
  unstorable = [Float::NAN, :symbol, huge, invalid_utf8, deep, cyclic, Object.new]
  garbage = storable + unstorable

  before { @token = SessionBridge.publish({ "user_id" => 1 }, user_id: 1) }

  def expect_unchanged(&block)
    before = redis_snapshot
    block.call
    expect(redis_snapshot).to eq(before)
  end

  garbage.each do |value|
    label = value.inspect[0, 30]

    it "fetch, touch and revoke answer #{label} with nil or false, without asking Redis" do
      expect_unchanged do
        expect(SessionBridge.fetch(value)).to be_nil
        expect(SessionBridge.touch(value)).to be(false)
        expect(SessionBridge.revoke(value)).to be(false)
      end
    end

    it "publish refuses #{label} as data with SerializationError", if: !value.is_a?(Hash) do
      expect_unchanged do
        expect { SessionBridge.publish(value) }.to raise_error(SessionBridge::SerializationError)
      end
    end

    it "publish refuses #{label} nested in the data, or stores it faithfully" do
      data = { "value" => value }
      if storable.any? { |candidate| candidate.equal?(value) }
        expect(SessionBridge.fetch(SessionBridge.publish(data))).to eq(JSON.parse(JSON.generate(data)))
      else
        expect_unchanged do
          expect { SessionBridge.publish(data) }.to raise_error(SessionBridge::SerializationError, /\Adata\["value"\]|max_payload/)
        end
      end
    end

    it "revoke_user and publish(user_id:) refuse #{label} as a user id, or accept it as one" do
      utf8 = value.is_a?(String) && value.dup.force_encoding(Encoding::UTF_8).valid_encoding?
      if value.is_a?(Integer) || (utf8 && !value.empty? && value.bytesize <= 128 && !value.match?(/[[:cntrl:]]/))
        expect(SessionBridge.revoke_user(value)).to be_an(Integer)
      else
        expect_unchanged do
          expect { SessionBridge.revoke_user(value) }.to raise_error(ArgumentError)
          expect { SessionBridge.publish({ "a" => 1 }, user_id: value) }.to raise_error(ArgumentError) unless value.nil?
        end
      end
    end
  end

  it "accepts any session_id, huge or binary, since it only feeds the digest" do
    [nil, huge, invalid_utf8, crlf, 42, :sym].each do |session_id|
      expect(SessionBridge.publish({ "a" => 1 }, session_id: session_id)).to match(/\A[0-9a-f]{32}\z/)
    end
  end

  it "keeps strings with control characters and CRLF intact, as JSON does" do
    data = { "crlf" => "a\r\nb", "nul" => "\u0000", "bell" => "\a", "del" => "\u007f", "\r\n key" => 1 }

    expect(SessionBridge.fetch(SessionBridge.publish(data))).to eq(data)
  end

  it "leaves the process alive and working after all of the above" do
    expect(SessionBridge.fetch(@token)).to eq("user_id" => 1)
  end

  it "refuses a user_id String in another encoding, whose bytes could spell another user's id" do
    utf16 = "中".encode("UTF-16LE") # the bytes "-N"

    expect { SessionBridge.publish({ "n" => 1 }, user_id: utf16) }.to raise_error(ArgumentError, /UTF-8/)
    expect { SessionBridge.revoke_user(utf16) }.to raise_error(ArgumentError, /UTF-8/)
    expect(raw_redis.keys("*user:-N*")).to be_empty
  end

  it "answers a BasicObject user id with ArgumentError, not NoMethodError" do
    expect { SessionBridge.publish({ "n" => 1 }, user_id: BasicObject.new) }.to raise_error(ArgumentError, /BasicObject/)
    expect { SessionBridge.revoke_user(BasicObject.new) }.to raise_error(ArgumentError, /BasicObject/)
  end
end
