-- POST the bodies of a file (one JSON body a line) in turn: wrk -s notify.lua <url> -- <file> <offset>
-- Each thread starts at its own place in the file; `offset` moves every run to a new place.
local bodies = {}
local counter = 0
local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then bodies[#bodies + 1] = line end
  end
  local offset = tonumber(args[2] or "0")
  counter = (offset + thread_index * math.floor(#bodies / 8)) % #bodies
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["User-Agent"] = "Veritrans"
end

function request()
  counter = counter % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[counter])
end

done = dofile(string.gsub(debug.getinfo(1, "S").source, "^@(.*/).*$", "%1") .. "done.lua")
