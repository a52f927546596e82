-- wrk script for bench/run.sh: POST add participant, each request with a custom_participant_id
-- no other request of the run uses (thread number and a per-thread counter). Counts every answer
-- that is not 2xx (wrk itself counts only >= 400) and prints "Not 2xx: N" for run.sh to check.
local threads = {}
local next_id = 1

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  n = 0
  bad = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  n = n + 1
  local body = string.format('{"custom_participant_id":"bench-%d-%d","preset_name":"host"}', tid, n)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do
    total = total + t:get("bad")
  end
  io.write(string.format("Not 2xx: %d\n", total))
end
