-- wrk script: POST report bodies (one JSON per line in the file given as first argument),
-- each with a fresh Idempotency-Key as the PWA sends it, and each from a client address of
-- its own in X-Forwarded-For, as the city's nginx passes it (the app trusts one hop). The
-- second argument numbers the run: each run (and each thread) uses addresses of its own.
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local bodies = {}
local i, first = 0, 0
function init(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  math.randomseed(os.time() * 1000 + tid)
  first = tonumber(args[2]) * 2097152 + tid * 1048576  -- 2^21 addresses per run, 2^20 per thread
end

-- Address number n in 10.0.0.0/8 (n < 2^24).
local function address(n)
  return string.format("10.%d.%d.%d", math.floor(n / 65536) % 256, math.floor(n / 256) % 256,
                       n % 256)
end

function request()
  i = i + 1
  local body = bodies[((i * 7 + tid * 7919) % #bodies) + 1]
  local key = string.format("bench-%d-%d-%d", tid, i, math.random(1, 2147483647))
  return wrk.format("POST", "/api/v1/reports",
    {["Content-Type"] = "application/json", ["Idempotency-Key"] = key,
     ["X-Forwarded-For"] = address(first + i)}, body)
end
