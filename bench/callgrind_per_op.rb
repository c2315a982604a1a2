# frozen_string_literal: true

# Instructions per operation, by function, from two callgrind profiles of bench/profile.rb that
# differ only in the operation count: (profile with more ops - profile with fewer) / extra ops.
# Start-up and loading cancel out, so what is left is the cost of one operation.
#
#   ruby bench/callgrind_per_op.rb /tmp/cg.1000 1000 /tmp/cg.3000 3000 [--exclusive] [rows]
#
# Needs callgrind_annotate (valgrind). Inclusive figures (the default) count callees too; with
# recursion or inlining a function's inclusive figure can exceed the total.

require "open3"

def functions(profile, exclusive)
  output, status = Open3.capture2("callgrind_annotate", "--inclusive=#{exclusive ? 'no' : 'yes'}",
                                  "--auto=no", "--threshold=100", profile)
  abort "callgrind_annotate failed on #{profile}" unless status.success?

  total = output[/([\d,]+)\s+\(100\.0%\)\s+PROGRAM TOTALS/, 1].delete(",").to_i
  rows = output.each_line.filter_map do |line|
    match = line.match(/\A\s*([\d,]+) \(\s*[\d.]+%\)\s+(.+?)\s*\z/)
    next unless match && !match[2].include?("PROGRAM TOTALS")

    [match[2].sub(%r{\A.*/(?=[^/]+:)}, ""), match[1].delete(",").to_i]
  end
  # The same function can appear under several file names (inlined code); add them up.
  [total, rows.each_with_object(Hash.new(0)) { |(name, cost), all| all[name] += cost }]
end

small_profile, small_ops, large_profile, large_ops, *options = ARGV
abort "usage: #{$PROGRAM_NAME} small.out small_ops large.out large_ops [--exclusive] [rows]" unless large_ops

exclusive = options.delete("--exclusive")
limit = Integer(options.first || 40)
extra = Integer(large_ops) - Integer(small_ops)
small_total, small = functions(small_profile, exclusive)
large_total, large = functions(large_profile, exclusive)
puts format("%d instructions per operation in all (%s)", (large_total - small_total) / extra,
            exclusive ? "exclusive costs below" : "inclusive costs below")
per_op = large.map { |name, cost| [name, (cost - small.fetch(name, 0)).fdiv(extra)] }
per_op.sort_by { |_, cost| -cost }.first(limit).each do |name, cost|
  puts format("%10.0f  %s", cost, name[0, 160])
end
