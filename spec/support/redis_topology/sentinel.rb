# frozen_string_literal: true

module RedisTopology
  # A master, a replica (replicaof) and 3 sentinels with a quorum of 2. A master that stops
  # answering for a second is down; a failover takes a few seconds.
  class Sentinel < Topology
    MASTER_NAME = "session_bridge"
    SENTINELS = 3
    QUORUM = 2
    READY_SECONDS = 30

    attr_reader :master_name

    def initialize(master_name: MASTER_NAME)
      super()
      @master_name = master_name
      @data_nodes = []
      @sentinels = []
    end

    def sentinel_ports
      @sentinels.map(&:port)
    end

    def sentinel_urls
      @sentinels.map(&:url)
    end

    # The master the sentinels name (the first that answers).
    def master_port
      @sentinels.select(&:running?).each do |sentinel|
        return sentinel.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", master_name).last.to_i
      rescue Redis::BaseError, SystemCallError
        next
      end
      raise Error, "no sentinel answers:\n#{logs}"
    end

    # The other data node, running or not (after a failover, the old master until it is back).
    def replica_port
      master = master_port
      @data_nodes.map(&:port).find { |port| port != master }
    end

    # SIGKILL on the master; returns the monotonic time of the kill, which wait_for_failover counts
    # from. `port`, if given, must be the master's.
    def kill_master(port = nil)
      master = master_port
      raise Error, "#{port} is not the master (#{master} is)" if port && Integer(port) != master

      @failover = { old_master: master, replica: replica_port }
      @failover[:killed_at] = kill_node(master)
    end

    # Waits until every sentinel names the replica as the master and it says role:master; returns the
    # seconds since the kill.
    def wait_for_failover(port = nil, timeout: 30)
      raise Error, "the master was not killed with kill_master" unless @failover
      if port && Integer(port) != @failover[:old_master]
        raise Error, "#{port} is not the killed master (#{@failover[:old_master]} is)"
      end

      promoted = node(@failover[:replica])
      wait_until("the sentinels to promote #{promoted.port}", timeout: timeout) do
        @sentinels.all? { |sentinel| named_master(sentinel) == promoted.port } &&
          promoted.info("replication")["role"] == "master"
      end
      RedisTopology.now - @failover[:killed_at]
    end

    # Starts a killed master or replica again on its port, as it was configured: a former master
    # comes back as a master, and this waits until the sentinels have made it a replica of the new
    # one. Returns its role ("master" or "replica").
    def restart(port, timeout: READY_SECONDS)
      raise Error, "#{port} is a sentinel; only the master and the replica restart" if @sentinels.include?(node(port))

      restart_node(port)
      @failover = nil if @failover && @failover[:old_master] == Integer(port)
      wait_until("#{port} to rejoin", timeout: timeout) { ready? }
      node(port).info("replication")["role"] == "master" ? "master" : "replica"
    end

    def describe
      master = master_port
      { kind: "sentinel", master_name: master_name, master_port: master, replica_port: replica_port,
        masters: [master], replicas: [replica_port], sentinel_ports: sentinel_ports, sentinel_urls: sentinel_urls,
        startup_seconds: startup_seconds&.round(3) }
    end

    private

    def nodes
      @data_nodes + @sentinels
    end

    def boot
      primary = Node.new(dir: File.join(dir, "master"), command: method(:server_args))
      replica = Node.new(dir: File.join(dir, "replica"), command: lambda { |node|
        [*server_args(node), "--replicaof", "127.0.0.1", primary.port.to_s]
      })
      @data_nodes = [primary, replica]
      @data_nodes.each { |node| node.spawn(retry_ports: true) }
      # A sentinel learns the replicas from the master's INFO when it connects, then only every 10 s.
      wait_until("the replica to sync", timeout: READY_SECONDS) { ready_replicas?([replica.port]) }
      @sentinels = Array.new(SENTINELS) do |index|
        Node.new(dir: File.join(dir, "sentinel#{index}"), command: method(:sentinel_args))
      end
      @sentinels.each { |sentinel| tune(sentinel.spawn(retry_ports: true)) }
      wait_until("every sentinel to know the master, the replica and the other sentinels", timeout: READY_SECONDS) do
        ready?
      end
    end

    # A sentinel rewrites its config file as it learns, so the file must be its own and writable.
    def sentinel_args(node)
      config = File.join(node.dir, "sentinel.conf")
      File.write(config, <<~CONF)
        sentinel monitor #{master_name} 127.0.0.1 #{@data_nodes.first.port} #{QUORUM}
        sentinel down-after-milliseconds #{master_name} 1000
        sentinel failover-timeout #{master_name} 5000
        sentinel parallel-syncs #{master_name} 1
      CONF
      [config, "--sentinel", "--port", node.port.to_s, "--bind", "127.0.0.1", "--dir", node.dir,
       "--logfile", node.log_path]
    end

    # INFO every second instead of every 10 and hellos twice a second instead of every 2 s: sentinels
    # find each other, and demote a restarted old master, in a few seconds instead of ~20.
    def tune(sentinel)
      sentinel.call("SENTINEL", "DEBUG", "info-period", "1000", "publish-period", "500")
    end

    # Every running sentinel sees the named master up, every other running data node as a replica
    # in sync, and the other sentinels; every running replica's link is up.
    def ready?
      master = master_port
      replicas = @data_nodes.select(&:running?).map(&:port) - [master]
      @sentinels.select(&:running?).all? do |sentinel|
        state = sentinel_hash(sentinel.call("SENTINEL", "MASTER", master_name))
        known = sentinel.call("SENTINEL", "REPLICAS", master_name).map { |fields| sentinel_hash(fields) }
                        .select { |replica| replica["flags"] == "slave" && replica["master-link-status"] == "ok" }
        state["port"].to_i == master && state["flags"] == "master" &&
          state["num-other-sentinels"].to_i == SENTINELS - 1 &&
          (replicas - known.map { |replica| replica["port"].to_i }).empty?
      end && ready_replicas?(replicas)
    end

    def ready_replicas?(ports)
      ports.all? { |port| node(port).info("replication")["master_link_status"] == "up" }
    end

    def named_master(sentinel)
      sentinel.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", master_name)&.last.to_i
    end

    def sentinel_hash(fields)
      fields.each_slice(2).to_h
    end
  end
end
