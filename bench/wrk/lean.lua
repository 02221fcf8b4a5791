-- The lean request mix for wrk: the saturation mode of bench/load when it checks on a sample
-- (`--check sample`, the default). The same mix as mix.lua (kind by weight, code by Zipf-like
-- popularity), but the least work per request on the load tool's CPU:
--   * the requests are built once, in init(): a ring of PREPARED requests per thread, drawn with
--     the mix's weights and the codes' popularity (creates excepted: each needs a unique URL, so
--     only they are built per request);
--   * there is no response() function, so wrk hands no answer to Lua (it parses no headers for
--     the script): statuses are wrk's own count (status >= 400), latency is wrk's own histogram,
--     and kurz-load checks the redirects' Location in a verification pass on a sample of codes.
-- Per request, the script only counts what it sent (per kind) in the file shared with kurz-load
-- (layout in bench/loadgen/shared_counts.h), for the progress lines and the per-kind totals.
--
-- Environment: as mix.lua (KURZ_LOAD_SHM, KURZ_LOAD_LAYOUT, KURZ_LOAD_CODES, KURZ_LOAD_MIX,
-- KURZ_LOAD_ZIPF, KURZ_LOAD_PREFIX, KURZ_LOAD_RUN, KURZ_LOAD_SEED, KURZ_LOAD_HOST,
-- KURZ_LOAD_WRK_OUT), KURZ_LOAD_PREPARED (requests prepared per thread, default 4096), and
-- KURZ_LOAD_PATH (--path: every request is GET that path, prepared once).
-- The shared part (setup, done, the environment, the shared file, the codes, the draws): kurz_wrk.lua
-- beside this file.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local kw = require("kurz_wrk")
local KIND_REDIRECT, KIND_STATS, KIND_QR = kw.KIND_REDIRECT, kw.KIND_STATS, kw.KIND_QR
local need = kw.need

local words
local prepared, prepared_kind, nprepared = {}, {}, 0
local pos = 0
local prefix, run, host, headers, api_key
local creates = 0

function init(args)
  local _
  _, words = kw.map_slot()
  local codes, _, cdf = kw.codes()
  local pick_rank, pick_kind = kw.pickers(cdf)
  prefix = os.getenv("KURZ_LOAD_PREFIX") or ""
  api_key = os.getenv("KURZ_LOAD_API_KEY") or ""
  run = need("KURZ_LOAD_RUN")
  host = need("KURZ_LOAD_HOST")
  headers = {["Host"] = host, ["User-Agent"] = "kurz-load", ["Accept"] = "*/*"}
  math.randomseed(tonumber(need("KURZ_LOAD_SEED")) * 1000 + slot + 1)

  nprepared = tonumber(os.getenv("KURZ_LOAD_PREPARED") or "") or 4096
  local fixed = os.getenv("KURZ_LOAD_PATH") or ""
  if fixed ~= "" then
    -- --path: one request, the same every time (counted as a redirect).
    nprepared = 1
    prepared[1] = wrk.format("GET", prefix .. fixed, headers)
    prepared_kind[1] = KIND_REDIRECT
    return
  end
  local qrs = 0
  for i = 1, nprepared do
    local kind = pick_kind()
    local code = codes[pick_rank()]
    prepared_kind[i] = kind
    if kind == KIND_REDIRECT then
      prepared[i] = wrk.format("GET", prefix .. "/" .. code, headers)
    elseif kind == KIND_STATS then
      prepared[i] = wrk.format("GET", prefix .. "/api/stats/" .. code, headers)
    elseif kind == KIND_QR then
      qrs = qrs + 1
      prepared[i] = wrk.format("GET", prefix .. "/qr/" .. code .. (qrs % 2 == 1 and ".svg" or ".png"),
        headers)
    else
      prepared[i] = false -- built per request: a unique URL each
    end
  end
end

function request()
  pos = pos + 1
  if pos > nprepared then
    pos = 1
  end
  local kind = prepared_kind[pos]
  words[0] = words[0] + 1
  words[1 + kind] = words[1 + kind] + 1
  local req = prepared[pos]
  if req then
    return req
  end
  creates = creates + 1
  local create_headers = {["Host"] = host, ["User-Agent"] = "kurz-load", ["Accept"] = "*/*",
                          ["Content-Type"] = "application/json"}
  if api_key ~= "" then create_headers["X-API-Key"] = api_key end
  return wrk.format("POST", prefix .. "/api/links", create_headers,
    '{"url":"https://example.com/kurz-load/' .. run .. '/l' .. slot .. "-" .. creates .. '"}')
end
