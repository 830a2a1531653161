-- wrk: PUT 100-byte values to fresh keys, one key per request.
local counter = 0
local value = string.rep("v", 100)
request = function()
  counter = counter + 1
  return wrk.format("PUT", "/d/bench-" .. counter, { ["Content-Type"] = "application/octet-stream" }, value)
end
