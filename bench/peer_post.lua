-- wrk script for bench/peer_open311.py: Open311 GeoReport v2 "POST Service Request" to the peer,
-- form-encoded as the spec has it, at a random point in Munich, rotating over the services.
-- Arguments (after --): path api_key jurisdiction_id service_code[,service_code...] [points]
-- points: optional file of "lat,lon" lines to post at in turn (a server that refuses points
-- outside its city, like ours, is then measured on requests it accepts).
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local path, api_key, jurisdiction = "", "", ""
local codes = {}
local points = {}
local i = 0
function init(args)
  path, api_key, jurisdiction = args[1], args[2], args[3]
  for code in string.gmatch(args[4], "[^,]+") do codes[#codes + 1] = code end
  if args[5] then
    for line in io.lines(args[5]) do
      local lat, lon = line:match("^([%d.]+),([%d.]+)$")
      points[#points + 1] = {tonumber(lat), tonumber(lon)}
    end
  end
  math.randomseed(os.time() * 1000 + tid)
end

local function point()
  if #points > 0 then
    local p = points[((i * 2 + tid) % #points) + 1]
    return p[1], p[2]
  end
  return 48.06 + math.random() * 0.19, 11.36 + math.random() * 0.36
end

function request()
  i = i + 1
  local lat, lon = point()
  local body = string.format(
    "api_key=%s&jurisdiction_id=%s&service_code=%s&lat=%.6f&long=%.6f&description=%s",
    api_key, jurisdiction, codes[((i + tid) % #codes) + 1], lat, lon,
    "Verkehrszeichen+nach+Sturm+umgefallen%2C+bitte+wieder+aufstellen.")
  return wrk.format("POST", path,
    {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
