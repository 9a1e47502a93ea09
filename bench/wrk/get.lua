-- GET one page with a session cookie: wrk -s get.lua <url> -- <cookie>
function init(args)
  wrk.headers["Cookie"] = "session=" .. args[1]
end

done = dofile(string.gsub(debug.getinfo(1, "S").source, "^@(.*/).*$", "%1") .. "done.lua")
