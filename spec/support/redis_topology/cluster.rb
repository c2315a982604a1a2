# frozen_string_literal: true

module RedisTopology
  # Six cluster-enabled redis-servers made into 3 masters with a replica each by
  # `redis-cli --cluster create`. A 1 s node timeout makes a failover take a few seconds, and a
  # replica always qualifies (validity factor 0) however long its master has been gone.
  class Cluster < Topology
    SIZE = 6
    NODE_TIMEOUT_MS = 1000
    READY_SECONDS = 30
    SLOTS = 16_384

    # One line of CLUSTER NODES.
    Entry = Struct.new(:id, :port, :flags, :master_id, :slots) do
      def master? = flags.include?("master")
      def failed? = flags.include?("fail")
      def healthy? = (flags & %w[fail fail? handshake noaddr]).empty?
      def serving? = master? && !failed? && slots.any?
    end

    def initialize
      super
      @nodes = []
      @failovers = {}
    end

    def seed_urls
      @nodes.map(&:url)
    end

    # Masters in slot order, each with its replicas and slot ranges, as `view` (a port) sees them.
    def shards(view: nil)
      entries = cluster_nodes(view ? node(view) : reachable_node)
      entries.select(&:serving?)
             .sort_by { |entry| entry.slots.first }
             .map do |master|
        replicas = entries.select { |entry| entry.master_id == master.id && !entry.failed? }
        { master: master.port, replicas: replicas.map(&:port).sort, slots: master.slots }
      end
    end

    def masters
      shards.map { |shard| shard[:master] }
    end

    def replicas
      shards.flat_map { |shard| shard[:replicas] }
    end

    def master_for_slot(slot, view: nil)
      owner = shards(view: view).find { |shard| shard[:slots].any? { |first, last| slot.between?(first, last) } }
      owner&.fetch(:master)
    end

    # SIGKILL; returns the monotonic time of the kill, which wait_for_failover counts from.
    def kill_master(port)
      shard = shards.find { |candidate| candidate[:master] == Integer(port) }
      raise Error, "#{port} is not a master; the masters are #{masters.join(', ')}" unless shard
      raise Error, "master #{port} has no replica to take over" if shard[:replicas].empty?

      killed_at = kill_node(port)
      @failovers[shard[:master]] = { replicas: shard[:replicas], slot: shard[:slots].first.first, killed_at: killed_at }
      killed_at
    end

    # Waits until a replica of the killed master is a master, owns its slots in every survivor's view
    # and every survivor says cluster_state:ok; returns the seconds since the kill.
    def wait_for_failover(old_master_port, timeout: 15)
      failover = @failovers.fetch(Integer(old_master_port)) do
        raise Error, "#{old_master_port} was not killed with kill_master"
      end
      what = "a replica of #{old_master_port} (#{failover[:replicas].join(', ')}) to take over"
      wait_until(what, timeout: timeout) do
        promoted = failover[:replicas].find { |port| node(port).info("replication")["role"] == "master" }
        promoted && running.all? { |node| master_for_slot(failover[:slot], view: node.port) == promoted } && healthy?
      end
      RedisTopology.now - failover[:killed_at]
    end

    # Starts a killed node again on its port with its nodes.conf; a master that was failed over comes
    # back as a replica of the node that took over. Returns its role ("master" or "replica").
    def restart(port, timeout: READY_SECONDS)
      restart_node(port)
      @failovers.delete(Integer(port))
      wait_until("#{port} to rejoin the cluster", timeout: timeout) { healthy? }
      node(port).info("replication")["role"] == "master" ? "master" : "replica"
    end

    def describe
      { kind: "cluster", nodes: ports, seed_urls: seed_urls, masters: masters, replicas: replicas,
        shards: shards, startup_seconds: startup_seconds&.round(3) }
    end

    private

    def nodes
      @nodes
    end

    def boot
      @nodes = Array.new(SIZE) do |index|
        Node.new(dir: File.join(dir, "node#{index}"), command: method(:cluster_args))
      end
      @nodes.each { |node| node.spawn(retry_ports: true) }
      create
      wait_until("the cluster to be ready (cluster_state:ok, replicas in sync)", timeout: READY_SECONDS) { healthy? }
    end

    def cluster_args(node)
      [*server_args(node), "--cluster-enabled", "yes", "--cluster-port", node.bus_port.to_s,
       "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", NODE_TIMEOUT_MS.to_s,
       "--cluster-replica-validity-factor", "0"]
    end

    def create
      run(ENV.fetch("REDIS_CLI", "redis-cli"), "--cluster", "create", *@nodes.map { |node| "127.0.0.1:#{node.port}" },
          "--cluster-replicas", "1", "--cluster-yes",
          what: "redis-cli --cluster create", timeout: READY_SECONDS, output: File.join(dir, "cluster-create.log"))
    end

    def running
      @nodes.select(&:running?)
    end

    def reachable_node
      running.first or raise Error, "no cluster node is running"
    end

    # Every running node: cluster_state:ok, sees every running node as healthy, agrees with the others
    # on who owns which slots and who replicates whom, and is a master or a replica whose link is up.
    def healthy?
      views = running.map do |node|
        return false unless cluster_info(node)["cluster_state"] == "ok"

        entries = cluster_nodes(node)
        return false unless running.all? { |other| entries.any? { |entry| entry.port == other.port && entry.healthy? } }

        replication = node.info("replication")
        return false unless replication["role"] == "master" || replication["master_link_status"] == "up"

        layout(entries)
      end
      views.uniq.size == 1 && views.first.values.grep(Array).flatten(1).sum { |first, last| last - first + 1 } == SLOTS
    end

    # As one node sees it: a master's slot ranges, a replica's master port (nodes it sees failing left out).
    def layout(entries)
      port_of = entries.to_h { |entry| [entry.id, entry.port] }
      entries.select(&:healthy?).to_h { |entry| [entry.port, entry.master? ? entry.slots : port_of[entry.master_id]] }
    end

    def cluster_info(node)
      node.call("CLUSTER", "INFO").lines.to_h { |line| line.chomp.split(":", 2) }
    end

    def cluster_nodes(node)
      node.call("CLUSTER", "NODES").lines.map do |line|
        id, address, flags, master_id, _ping, _pong, _epoch, _link, *slots = line.split
        ranges = slots.grep(/\A\d/).map { |range| range.split("-").map(&:to_i).values_at(0, -1) }
        Entry.new(id, address[/:(\d+)@/, 1].to_i, flags.split(","), master_id, ranges)
      end
    end
  end
end
