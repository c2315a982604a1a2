# frozen_string_literal: true

module Bench
  # Markdown for the figures: tables of rates with ratios computed in this run, and the targets.
  module Report
    Target = Struct.new(:goal, :measured, :minimum) do
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
        [label, rate(result.median), range(result), *ratios.values.map { |other| ratio(result.median / other.median) },
         commands(result), format("%.2f", result.round_trips_per_operation), result.connections_opened]
      end
    end

    def redis_headers(first, ratios)
      [first, "ops/s", "min–max", *ratios.keys.map { |name| "× #{name}" }, "Redis commands/op", "round trips/op",
       "connections opened"]
    end

    def targets(list)
      rows = list.map do |target|
        [target.goal, ratio(target.measured), target.met? ? "**met**" : "**not met**"]
      end
      table(["target (ratio in this run)", "measured", "this run"], rows)
    end

    def rate(value)
      value.round.to_s.reverse.scan(/\d{1,3}/).join(",").reverse
    end

    def range(result)
      "#{rate(result.min)}–#{rate(result.max)}"
    end

    def ratio(value)
      format("%.2f×", value)
    end

    def commands(result)
      per_operation = result.commands_per_operation
      return "0" if per_operation.empty?

      per_operation.sort_by { |name, calls| [-calls, name] }
                   .map { |name, calls| format("%.2f %s", calls, name) }.join(" + ")
    end
  end
end
