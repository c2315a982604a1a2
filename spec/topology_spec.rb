# frozen_string_literal: true

require_relative "support/redis_topology"

# The topology support itself, against the real processes: if these fail, a failover spec built on
# it would prove nothing.
RSpec.describe RedisTopology do
  after { @clients&.each(&:close) }

  def connect(port, **options)
    (@clients ||= []) << Redis.new(host: "127.0.0.1", port: port, timeout: 2, reconnect_attempts: 0, **options)
    @clients.last
  end

  def keyslot(cluster, key)
    connect(cluster.masters.first).call("CLUSTER", "KEYSLOT", key)
  end

  def refuses_connections?(port)
    TCPSocket.new("127.0.0.1", port).close
    false
  rescue SystemCallError
    true
  end

  describe RedisTopology::Cluster do
    # One cluster for the group (about 2 s to start); every example leaves it with 3 healthy shards.
    before(:all) { @cluster = RedisTopology::Cluster.start }
    after(:all) { @cluster&.stop }

    let(:cluster) { @cluster }

    it "starts three masters with one in-sync replica each, owning all 16384 slots, on loopback" do
      shards = cluster.shards
      expect(shards.size).to eq(3)
      expect(shards.map { |shard| shard[:replicas].size }).to eq([1, 1, 1])
      expect(shards.flat_map { |shard| shard[:slots] }.sum { |first, last| last - first + 1 }).to eq(16_384)
      expect(cluster.seed_urls).to all(match(%r{\Aredis://127\.0\.0\.1:\d+\z}))
      shards.each do |shard|
        replication = connect(shard[:replicas].first).info("replication")
        expect(replication)
          .to include("role" => "slave", "master_port" => shard[:master].to_s, "master_link_status" => "up")
      end
    end

    it "names the master that owns a key's slot: the others redirect there, and its replica has the key" do
      key = "topology:#{rand(1 << 30)}"
      slot = keyslot(cluster, key)
      owner = cluster.master_for_slot(slot)
      stranger = (cluster.masters - [owner]).first

      expect { connect(stranger).set(key, "v") }
        .to raise_error(Redis::CommandError, /\AMOVED #{slot} 127\.0\.0\.1:#{owner}\z/)
      master = connect(owner)
      master.set(key, "v")
      expect(master.call("WAIT", 1, 2000)).to eq(1)
      replica = connect(cluster.shards.find { |shard| shard[:master] == owner }[:replicas].first)
      replica.call("READONLY")
      expect(replica.get(key)).to eq("v")
    end

    it "has the replica take over within seconds when its master is killed, and takes the master back as replica" do
      # A cluster of its own: a failure half way must not leave the shared one short of a master.
      cluster = RedisTopology::Cluster.start
      shard = cluster.shards.sample
      old_master = shard[:master]
      new_master = shard[:replicas].first
      key = (1..).lazy.map { |n| "failover:#{n}" }
                 .find { |name| cluster.master_for_slot(keyslot(cluster, name)) == old_master }
      connect(old_master).set(key, "kept")
      expect(connect(old_master).call("WAIT", 1, 2000)).to eq(1)

      cluster.kill_master(old_master)
      elapsed = cluster.wait_for_failover(old_master, timeout: 15)

      expect(elapsed).to be < 8
      expect(cluster.masters).to include(new_master)
      expect(cluster.masters).not_to include(old_master)
      expect(connect(new_master).get(key)).to eq("kept")
      expect(cluster.restart(old_master)).to eq("replica")
      expect(cluster.shards.find { |candidate| candidate[:master] == new_master }[:replicas]).to eq([old_master])
    ensure
      cluster&.stop
    end

    it "counts the client connections open on a node, so a leak shows" do
      port = cluster.masters.first
      before = cluster.client_count(port)
      client = connect(port)
      client.ping
      expect(cluster.client_count(port)).to eq(before + 1)
      client.close
      expect(cluster.client_count(port)).to eq(before)
    end

    it "stops the servers it started when starting fails half way, and removes its directory" do
      made = nil
      allow(Dir).to receive(:mktmpdir).and_wrap_original { |original, *args| made = original.call(*args) }
      broken = RedisTopology::Cluster.new
      stub_const("ENV", ENV.to_h.merge("REDIS_CLI" => "false"))

      expect { broken.start }.to raise_error(RedisTopology::Error, /redis-cli --cluster create failed/)
      expect(broken.ports.size).to eq(6)
      expect(broken.ports).to all(satisfy { |port| refuses_connections?(port) })
      expect(Dir.exist?(made)).to be(false)
    end
  end

  describe RedisTopology::Sentinel do
    before(:all) { @sentinel = RedisTopology::Sentinel.start }
    after(:all) { @sentinel&.stop }

    let(:sentinel) { @sentinel }

    def sentinel_client
      # redis-rb 4 takes the master's name as the host
      Redis.new(host: sentinel.master_name, role: :master, timeout: 2, reconnect_attempts: 3,
                sentinels: sentinel.sentinel_urls.map { |url| { host: "127.0.0.1", port: URI(url).port } })
    end

    it "starts a master and its replica watched by three sentinels that know both and each other" do
      expect(connect(sentinel.replica_port).info("replication"))
        .to include("role" => "slave", "master_port" => sentinel.master_port.to_s, "master_link_status" => "up")
      sentinel.sentinel_urls.each do |url|
        master = connect(URI(url).port).call("SENTINEL", "MASTER", sentinel.master_name).each_slice(2).to_h
        expect(master).to include("port" => sentinel.master_port.to_s, "flags" => "master",
                                  "num-slaves" => "1", "num-other-sentinels" => "2")
      end
    end

    it "promotes the replica when the master is killed, the sentinels name it, the old master comes back as replica" do
      old_master = sentinel.master_port
      replica = sentinel.replica_port
      writer = sentinel_client
      writer.set("topology:kept", "yes")
      expect(writer.call("WAIT", 1, 2000)).to eq(1)
      writer.close

      sentinel.kill_master
      elapsed = sentinel.wait_for_failover(timeout: 30)

      expect(elapsed).to be < 15
      sentinel.sentinel_urls.each do |url|
        expect(connect(URI(url).port).call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", sentinel.master_name))
          .to eq(["127.0.0.1", replica.to_s])
      end
      expect(connect(replica).info("replication")["role"]).to eq("master")
      expect(sentinel_client.get("topology:kept")).to eq("yes")
      expect(sentinel.restart(old_master)).to eq("replica")
      expect([sentinel.master_port, sentinel.replica_port]).to eq([replica, old_master])
    end

    it "stops every server and sentinel, and removes its directory" do
      topology = RedisTopology::Sentinel.start
      dir = topology.dir
      ports = topology.ports
      topology.stop

      expect(ports.size).to eq(5)
      expect(ports).to all(satisfy { |port| refuses_connections?(port) })
      expect(Dir.exist?(dir)).to be(false)
    end
  end
end
