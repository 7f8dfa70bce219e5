-- wrk reporter for bench/run.py: when a run ends, print one machine-readable line,
--   BENCH_RESULT {"requests": ..., "rps": ..., "latency_us": {...}, "errors": {...}}
-- wrk's latency figures are in microseconds. errors.status counts responses with a status of
-- 400 or more (wrk's "Non-2xx or 3xx responses"); the others are socket errors.
--
-- bench/run.py loads this file after the request prelude it generates for each scenario (and
-- the scenario's own script, if any). Scripts that include it must not define done().

local function number(value)
  return string.format("%.3f", value)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  local parts = {
    '"requests": ' .. summary.requests,
    '"duration_s": ' .. number(seconds),
    '"rps": ' .. number(summary.requests / seconds),
    '"bytes": ' .. summary.bytes,
    '"latency_us": {'
      .. '"mean": ' .. number(latency.mean)
      .. ', "stdev": ' .. number(latency.stdev)
      .. ', "max": ' .. latency.max
      .. ', "p50": ' .. latency:percentile(50.0)
      .. ', "p95": ' .. latency:percentile(95.0)
      .. ', "p99": ' .. latency:percentile(99.0)
      .. '}',
    '"errors": {'
      .. '"status": ' .. errors.status
      .. ', "connect": ' .. errors.connect
      .. ', "read": ' .. errors.read
      .. ', "write": ' .. errors.write
      .. ', "timeout": ' .. errors.timeout
      .. '}',
  }
  io.write("BENCH_RESULT {" .. table.concat(parts, ", ") .. "}\n")
end
