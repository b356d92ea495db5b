-- wrk script for bench/stampede.py's background load: each connection asks for the
-- paths given after `--` in turn (wrk alone asks for one), waiting the pause first
-- given (milliseconds, 0 for none) between two requests, as a reader does between two
-- pages; the run's figures are printed as bench/wrk_report.lua prints them.
--
--   wrk ... --script bench/wrk_pages.lua http://127.0.0.1:PORT -- 200 / /2014/04/ ...

local here = debug.getinfo(1, "S").source:match("^@(.-)[^/]*$")
dofile(here .. "wrk_report.lua")

local report_init = init
local pause, paths, turn

function init(args)
  report_init(args)
  pause = tonumber(args[1]) or 0
  paths = {}
  for i = 2, #args do
    paths[#paths + 1] = args[i]
  end
  if #paths == 0 then
    paths[1] = "/"
  end
  turn = 0
end

function delay()
  return pause
end

function request()
  turn = turn % #paths + 1
  return wrk.format("GET", paths[turn])
end
