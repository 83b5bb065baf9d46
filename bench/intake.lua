-- wrk script: POST report bodies (one JSON per line in the file given as first argument),
-- each with a fresh Idempotency-Key as the PWA sends it.
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local bodies = {}
local i = 0
function init(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  math.randomseed(os.time() * 1000 + tid)
end

function request()
  i = i + 1
  local body = bodies[((i * 7 + tid * 7919) % #bodies) + 1]
  local key = string.format("bench-%d-%d-%d", tid, i, math.random(1, 2147483647))
  return wrk.format("POST", "/api/v1/reports",
    {["Content-Type"] = "application/json", ["Idempotency-Key"] = key}, body)
end
