-- wrk script for bench/read_path.py: GET the paths of a file in turn, one per line.
-- A line "path<TAB>etag" sends the etag in If-None-Match (a conditional GET).
local paths, etags, count = {}, {}, 0
local i = 0
function init(args)
  for line in io.lines(args[1]) do
    local path, etag = line:match("^([^\t]+)\t(.+)$")
    count = count + 1
    paths[count] = path or line
    etags[count] = etag
  end
  i = math.random(0, count - 1)
end

function request()
  i = i % count + 1
  if etags[i] then
    return wrk.format("GET", paths[i], {["If-None-Match"] = etags[i]})
  end
  return wrk.format("GET", paths[i])
end
