# frozen_string_literal: true

module Bench
  # Markdown for the figures: tables of rates with ratios computed in this run, and the targets.
  module Report
    # `ceiling`: the same ratio for redis-benchmark itself, when the target compares with redis-rb:
    # no client that sends one request per operation can do better in this run.
    Target = Struct.new(:goal, :measured, :minimum, :ceiling) do
      def met? = measured >= minimum
    end

    module_function

    # The first `labels` columns are text (left-aligned), the others figures (right-aligned).
    def table(headers, rows, labels: 1)
      alignment = headers.each_index.map { |i| i < labels ? " --- " : " ---: " }
      lines = ["| #{headers.join(' | ')} |", "|#{alignment.join('|')}|"]
      lines.concat(rows.map { |row| "| #{row.join(' | ')} |" })
      lines.join("\n")
    end

    # Rows for variants that talk to Redis; `ratios` maps a column title to the Result to divide by.
    def redis_rows(results, ratios)
      results.map do |label, result|
        [label, rate(result.best), rate(result.median), *ratios.values.map { |other| ratio(result.best / other.best) },
         microseconds(result.client_cpu_per_operation), microseconds(result.redis_cpu_per_operation),
         format("%.2f", result.round_trips_per_operation), commands(result), result.connections_opened]
      end
    end

    def redis_headers(first, ratios)
      [first, "ops/s (best)", "median", *ratios.keys.map { |name| "× #{name}" }, "client CPU µs/op",
       "Redis CPU µs/op", "round trips/op", "Redis commands/op", "connections opened"]
    end

    def microseconds(seconds)
      format("%.1f", seconds * 1e6)
    end

    def targets(list)
      rows = list.map do |target|
        [target.goal, ratio(target.measured), target.met? ? "**met**" : "**not met**",
         target.ceiling ? ratio(target.ceiling) : ""]
      end
      table(["target (ratio in this run)", "measured", "this run", "redis-benchmark's own ratio"], rows)
    end

    def rate(value)
      value.round.to_s.reverse.scan(/\d{1,3}/).join(",").reverse
    end

    def ratio(value)
      format("%.2f×", value)
    end

    def commands(result)
      per_operation = result.commands_per_operation.sort_by { |name, calls| [-calls, name] }
      return "0" if per_operation.empty?

      total = format("%.2f", per_operation.sum(&:last))
      each = per_operation.map { |_, calls| format("%.2f", calls) }.uniq
      # Most often every command runs once per operation: "3.00: hget time zscore".
      return "#{total}: #{per_operation.map(&:first).join(' ')}" if each == ["1.00"]

      "#{total}: #{per_operation.map { |name, calls| format('%.2f %s', calls, name) }.join(', ')}"
    end
  end
end
