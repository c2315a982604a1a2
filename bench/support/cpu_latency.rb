# frozen_string_literal: true

module Bench
  # Keeps idle CPUs polling instead of halting while the benchmark runs, through the kernel's PM QoS
  # interface: writing 0 to /dev/cpu_dma_latency asks for no idle-state exit latency for as long as
  # the file stays open, and closing it (or exiting) restores the previous behaviour.
  #
  # Why: with one request in flight, each operation wakes Redis and then the client. On a virtual
  # machine whose idle vCPUs halt, every such wake-up costs tens of microseconds in the hypervisor
  # (measured here: redis-benchmark -c 1 runs at ~20,000/s with halting CPUs and ~60,000/s with
  # polling ones), and whether a vCPU has halted depends on what else the machine is doing, so the
  # same variant flips between two rates from run to run. Polling measures the code, not the host.
  # BENCH_CPU_LATENCY=keep leaves the machine as it is.
  module CpuLatency
    PATH = "/dev/cpu_dma_latency"

    module_function

    # Returns a sentence for the machine table saying what was done.
    def hold
      return "left as it is (BENCH_CPU_LATENCY=keep)" if ENV["BENCH_CPU_LATENCY"] == "keep"

      @file = File.open(PATH, "wb")
      @file.sync = true
      @file.write([0].pack("l"))
      "idle CPUs poll for the run (#{PATH} held at 0; BENCH_CPU_LATENCY=keep to leave it)"
    rescue SystemCallError => e
      "idle CPUs may halt (could not hold #{PATH} at 0: #{e.message}; run as root for steadier figures)"
    end

    def release
      @file&.close
      @file = nil
    end
  end
end
