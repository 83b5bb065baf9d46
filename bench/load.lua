-- wrk script for bench/load.py. First argument: the kind of request.
--   submit <photos dir> <boundary> <first>   POST a report with a photo of its own (see
--                                            DistinctPhotos in load.py), fresh Idempotency-Key
--   map <bbox file>                          GET a page of the public map for a viewport
--   track <token file>                       GET a reporter's tracking view
--   bare                                     GET the bare Flask endpoint
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local function slurp(path)
  local file = io.open(path, "rb"); local data = file:read("*a"); file:close()
  return data
end

local kind, items, boundary = nil, {}, nil
local prefix, suffix, plain, marked, rows, first = nil, nil, {}, {}, 0, 0
local i = 0
function init(args)
  kind = args[1]
  math.randomseed(os.time() * 1000 + tid)
  if kind == "submit" then
    local dir = args[2]
    boundary, first = args[3], tonumber(args[4]) + tid * 1048576
    prefix, suffix = slurp(dir .. "/prefix"), slurp(dir .. "/suffix")
    rows = tonumber(slurp(dir .. "/rows"))
    for k = 0, rows - 1 do
      plain[k + 1] = slurp(dir .. "/plain-" .. k)
      marked[k + 1] = slurp(dir .. "/marked-" .. k)
    end
  elseif kind == "map" or kind == "track" then
    for line in io.lines(args[2]) do items[#items + 1] = line end
  end
end

-- Photo n: row k from the marked encoding when bit k of n is set (as DistinctPhotos.body).
local function photo(n)
  local parts = {prefix}
  for k = 1, rows do
    parts[#parts + 1] = (math.floor(n / 2 ^ (k - 1)) % 2 == 1) and marked[k] or plain[k]
  end
  parts[#parts + 1] = suffix
  return table.concat(parts)
end

function request()
  i = i + 1
  if kind == "submit" then
    local key = string.format("load-%d-%d-%d", tid, i, math.random(1, 2147483647))
    return wrk.format("POST", "/api/v1/reports", {
      ["Content-Type"] = "multipart/form-data; boundary=" .. boundary,
      ["Idempotency-Key"] = key}, photo(first + i))
  elseif kind == "map" then
    return wrk.format("GET", "/api/v1/reports?limit=200&bbox=" .. items[(i * 7 + tid) % #items + 1])
  elseif kind == "track" then
    return wrk.format("GET", "/api/v1/track/" .. items[(i * 13 + tid) % #items + 1])
  end
  return wrk.format("GET", "/bare")
end
