-- wrk script for bench/load.py. First argument: the kind of request.
--   submit <multipart body file> <boundary>   POST a report with a photo (fresh Idempotency-Key)
--   map <bbox file>                          GET a page of the public map for a viewport
--   track <token file>                       GET a reporter's tracking view
--   bare                                     GET the bare Flask endpoint
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local kind, items, body, boundary = nil, {}, nil, nil
local i = 0
function init(args)
  kind = args[1]
  math.randomseed(os.time() * 1000 + tid)
  if kind == "submit" then
    local file = io.open(args[2], "rb"); body = file:read("*a"); file:close()
    boundary = args[3]
  elseif kind == "map" or kind == "track" then
    for line in io.lines(args[2]) do items[#items + 1] = line end
  end
end

function request()
  i = i + 1
  if kind == "submit" then
    local key = string.format("load-%d-%d-%d", tid, i, math.random(1, 2147483647))
    return wrk.format("POST", "/api/v1/reports", {
      ["Content-Type"] = "multipart/form-data; boundary=" .. boundary,
      ["Idempotency-Key"] = key}, body)
  elseif kind == "map" then
    return wrk.format("GET", "/api/v1/reports?limit=200&bbox=" .. items[(i * 7 + tid) % #items + 1])
  elseif kind == "track" then
    return wrk.format("GET", "/api/v1/track/" .. items[(i * 13 + tid) % #items + 1])
  end
  return wrk.format("GET", "/bare")
end
