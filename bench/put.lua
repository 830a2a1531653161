-- wrk: PUT 100-byte values to fresh keys, one key per request.
-- An optional argument after `--` starts the key numbers there (a second run, fresh keys).
local counter = 0
local value = string.rep("v", 100)
init = function(args)
  counter = tonumber(args[1] or "0")
end
request = function()
  counter = counter + 1
  return wrk.format("PUT", "/d/bench-" .. counter, { ["Content-Type"] = "application/octet-stream" }, value)
end
