# frozen_string_literal: true

module Bench
  # One measured figure: the rate of each repetition, what Redis counted over all of them, and the
  # CPU time the client side (this process, or redis-benchmark) spent.
  class Result
    attr_reader :rates, :operations, :counts

    def initialize(rates, operations, counts, client_cpu)
      @rates = rates
      @operations = operations
      @counts = counts
      @client_cpu = client_cpu
    end

    def median
      sorted = rates.sort
      middle = sorted.size / 2
      sorted.size.odd? ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2.0
    end

    # The figure shown and compared: the fastest run. Other work on the machine only ever slows a
    # run down, so the fastest is the closest to what the code itself allows.
    def best = rates.max

    # Redis commands per operation, by command name (commands run by a script count too).
    def commands_per_operation
      counts.commands.reject { |_, calls| calls.zero? }.transform_values { |calls| calls.fdiv(operations) }
    end

    def round_trips_per_operation = counts.reads.fdiv(operations)

    def connections_opened = counts.connections

    def client_cpu_per_operation = @client_cpu / operations

    def redis_cpu_per_operation = counts.cpu / operations
  end

  # Measures a group of variants side by side: each is warmed up, then the repetitions are
  # interleaved (A B C, A B C, ...) so a slow moment of the machine hits every variant alike.
  # A variant is anything with `measure(seconds) -> [operations, seconds]`.
  class Runner
    attr_reader :duration, :repetitions, :warm_up

    def initialize(counters:, duration:, repetitions:, warm_up:, between_runs: -> {})
      @counters = counters
      @duration = duration
      @repetitions = repetitions
      @warm_up = warm_up
      @between_runs = between_runs
    end

    # variants: { label => measurable }. Returns { label => Result }.
    def compare(variants)
      variants.each_value do |variant|
        @between_runs.call
        variant.measure(@warm_up)
      end
      runs = variants.transform_values { [] }
      @repetitions.times do
        variants.each do |label, variant|
          @between_runs.call
          runs[label] << run(variant)
        end
      end
      runs.transform_values do |measured|
        Result.new(measured.map { |run| run[:operations] / run[:seconds] }, measured.sum { |run| run[:operations] },
                   measured.map { |run| run[:counts] }.reduce(:+), measured.sum { |run| run[:cpu] })
      end
    end

    private

    def run(variant)
      cpu = Bench.cpu_seconds
      (operations, seconds), counts = @counters.measure { variant.measure(@duration) }
      { operations: operations, seconds: seconds, counts: counts, cpu: Bench.cpu_seconds - cpu }
    end
  end
end
