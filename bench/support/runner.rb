# frozen_string_literal: true

module Bench
  # One measured figure: the rate of each repetition, and what Redis counted over all of them.
  class Result
    attr_reader :rates, :operations, :counts

    def initialize(rates, operations, counts)
      @rates = rates
      @operations = operations
      @counts = counts
    end

    def median
      sorted = rates.sort
      middle = sorted.size / 2
      sorted.size.odd? ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2.0
    end

    def min = rates.min
    def max = rates.max

    # Redis commands per operation, by command name (commands run by a script count too).
    def commands_per_operation
      counts.commands.reject { |_, calls| calls.zero? }.transform_values { |calls| calls.fdiv(operations) }
    end

    def round_trips_per_operation = counts.reads.fdiv(operations)

    def connections_opened = counts.connections
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
          runs[label] << @counters.measure { variant.measure(@duration) }
        end
      end
      runs.transform_values do |measured|
        rates = measured.map { |(operations, seconds), _| operations / seconds }
        operations = measured.sum { |(operations, _), _| operations }
        Result.new(rates, operations, measured.map(&:last).reduce(:+))
      end
    end
  end
end
