-- Refresh tokens are single use: every answer carries the next one. Each wrk thread keeps
-- a queue of unspent tokens, seeded with its own slice of bench_vars.seeds, takes one per
-- request and queues the one each answer returns.
local SEEDS_PER_THREAD = 16
local threads_seen = 0

function setup(thread)
  thread:set("thread_index", threads_seen)
  threads_seen = threads_seen + 1
end

local queue = {}

function init(args)
  local first = (thread_index or 0) * SEEDS_PER_THREAD + 1
  for i = first, first + SEEDS_PER_THREAD - 1 do
    if bench_vars.seeds[i] then
      table.insert(queue, bench_vars.seeds[i])
    end
  end
end

function request()
  local token = table.remove(queue, 1) or "exhausted"
  return wrk.format("POST", nil, nil, '{"refresh":"' .. token .. '"}')
end

function response(status, headers, body)
  local token = body and string.match(body, '"refresh"%s*:%s*"([^"]+)"')
  if token then
    table.insert(queue, token)
  end
end
