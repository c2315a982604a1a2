# frozen_string_literal: true

module Bench
  def self.now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  # Runs the block, telling standard error what it is doing and how long it took.
  def self.step(name)
    $stderr.print("bench: #{name}...")
    started = now
    result = yield
    $stderr.puts(format(" %.1f s", now - started))
    result
  end

  # CPU seconds spent by this process (every thread) and by its finished children (redis-benchmark).
  def self.cpu_seconds
    children = Process.times
    Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID) + children.cutime + children.cstime
  end

  # Calls the block over and over in this thread for `duration` seconds. The clock is read every
  # `batch` calls so reading it costs nothing measurable; every run does at least one batch.
  # Returns [operations, seconds].
  class Loop
    def initialize(batch: 8, &operation)
      @batch = batch
      @operation = operation
    end

    def measure(duration)
      operation = @operation
      batch = @batch
      operations = 0
      started = Bench.now
      deadline = started + duration
      loop do
        i = 0
        while i < batch
          operation.call
          i += 1
        end
        operations += batch
        break if Bench.now >= deadline
      end
      [operations, Bench.now - started]
    end
  end

  # `threads` Ruby threads, each calling its own operation (operations[i] for thread i), all
  # started at once through a gate and stopped by one deadline. Threads are created before the
  # clock starts. Returns [total operations, seconds until the last thread stopped].
  class ThreadedLoop
    def initialize(operations, batch: 8)
      @operations = operations
      @batch = batch
    end

    def measure(duration)
      gate = Queue.new
      batch = @batch
      threads = @operations.map do |operation|
        Thread.new do
          deadline = gate.pop
          count = 0
          loop do
            i = 0
            while i < batch
              operation.call
              i += 1
            end
            count += batch
            break if Bench.now >= deadline
          end
          [count, Bench.now]
        end
      end
      sleep 0.01 until threads.all? { |thread| thread.status == "sleep" }
      started = Bench.now
      threads.size.times { gate << started + duration }
      results = threads.map(&:value)
      [results.sum(&:first), results.map(&:last).max - started]
    end
  end
end
