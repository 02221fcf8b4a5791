-- The kurz request mix for wrk: the saturation mode of bench/load (kurz-load starts wrk with this
-- script and sets the KURZ_LOAD_* environment). Each request picks a kind by weight and a code by
-- Zipf-like popularity, exactly as kurz-load's rate mode does:
--   redirect  GET {prefix}/{code}               create  POST {prefix}/api/links (unique URL)
--   stats     GET {prefix}/api/stats/{code}     qr      GET {prefix}/qr/{code}.svg | .png
--
-- wrk times requests per connection but tells the script nothing about which connection an answer
-- belongs to, so per-kind figures need the answer to name its request: every request carries an
-- X-Request-Id of this run, which kurz echoes (HAProxy passes it through). The script timestamps
-- each request when wrk asks for it (just before wrk's own start time) and each answer when wrk
-- hands it over (just after wrk's own stop time), and counts both in a file shared with kurz-load
-- (layout in bench/loadgen/shared_counts.h): per-kind sent counts, statuses, a latency histogram
-- with the same 1 % buckets as kurz-load's, and the redirect checks. Answers without the id
-- (a server that does not echo it) are counted as "unmatched": totals stay exact, the per-kind
-- latency is then unknown.
--
-- Environment: KURZ_LOAD_SHM (the shared file), KURZ_LOAD_LAYOUT, KURZ_LOAD_CODES (file of
-- `code [target]` lines, rank order), KURZ_LOAD_MIX (four weights), KURZ_LOAD_ZIPF, KURZ_LOAD_PREFIX,
-- KURZ_LOAD_RUN (run id), KURZ_LOAD_SEED, KURZ_LOAD_HOST (Host header), KURZ_LOAD_WRK_OUT (done()
-- writes wrk's own summary there as JSON).
-- The shared part (setup, done, the environment, the shared file, the codes, the draws): kurz_wrk.lua
-- beside this file.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local kw = require("kurz_wrk")
local ffi = require("ffi")

ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } kurz_timespec;
int clock_gettime(int clock, kurz_timespec* ts);
]]

local RING = 65536 -- answers outstanding per thread at most (wrk: one per connection)
local KIND_REDIRECT, KIND_CREATE, KIND_STATS = kw.KIND_REDIRECT, kw.KIND_CREATE, kw.KIND_STATS
local need = kw.need

local ts = ffi.new("kurz_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

-- Per-thread state (init runs in each thread's own Lua state).
local words, status_base, status_codes, hist_base, buckets, max_base
local log_base
local codes, targets
local pick_rank, pick_kind
local prefix, run, host, id_prefix, api_key
local seq = 0
local creates = 0
local qrs = 0
local ring_seq, ring_t, ring_kind, ring_rank = {}, {}, {}, {}

function init(args)
  local layout, cdf
  layout, words = kw.map_slot()
  status_base, status_codes, hist_base, buckets, max_base = layout[2], layout[3], layout[4],
      layout[5], layout[6]
  log_base = math.log(layout[8])
  codes, targets, cdf = kw.codes()
  pick_rank, pick_kind = kw.pickers(cdf)
  prefix = os.getenv("KURZ_LOAD_PREFIX") or ""
  api_key = os.getenv("KURZ_LOAD_API_KEY") or ""
  run = need("KURZ_LOAD_RUN")
  host = need("KURZ_LOAD_HOST")
  id_prefix = "kl" .. string.gsub(run, "[^%w]", "") .. "-" .. slot .. "-"
  math.randomseed(tonumber(need("KURZ_LOAD_SEED")) * 1000 + slot + 1)
  for i = 0, RING - 1 do
    ring_seq[i] = -1
  end
end

function request()
  local kind = pick_kind()
  local rank = pick_rank()
  seq = seq + 1
  local i = seq % RING
  ring_seq[i] = seq
  ring_kind[i] = kind
  ring_rank[i] = rank
  local headers = {["Host"] = host, ["X-Request-Id"] = id_prefix .. seq, ["User-Agent"] = "kurz-load",
    ["Accept"] = "*/*"}
  words[0] = words[0] + 1
  words[1 + kind] = words[1 + kind] + 1
  local req
  local code = codes[rank]
  if kind == KIND_REDIRECT then
    req = wrk.format("GET", prefix .. "/" .. code, headers)
  elseif kind == KIND_CREATE then
    creates = creates + 1
    headers["Content-Type"] = "application/json"
    if api_key ~= "" then headers["X-API-Key"] = api_key end
    req = wrk.format("POST", prefix .. "/api/links", headers,
      '{"url":"https://example.com/kurz-load/' .. run .. '/w' .. slot .. "-" .. creates .. '"}')
  elseif kind == KIND_STATS then
    req = wrk.format("GET", prefix .. "/api/stats/" .. code, headers)
  else
    qrs = qrs + 1
    req = wrk.format("GET", prefix .. "/qr/" .. code .. (qrs % 2 == 1 and ".svg" or ".png"), headers)
  end
  ring_t[i] = now_us()
  return req
end

function response(status, headers, body)
  local now = now_us()
  words[5] = words[5] + 1
  local id = headers["X-Request-Id"] or headers["x-request-id"] or headers["X-Request-ID"]
  local i, matched = 0, false
  if id and string.sub(id, 1, #id_prefix) == id_prefix then
    local n = tonumber(string.sub(id, #id_prefix + 1))
    if n then
      i = n % RING
      matched = ring_seq[i] == n
    end
  end
  local code = status
  if code < 0 or code >= status_codes then
    code = 0
  end
  if not matched then
    words[6] = words[6] + 1
    local w = status_base + 4 * status_codes + code
    words[w] = words[w] + 1
    return
  end
  ring_seq[i] = -1
  local kind = ring_kind[i]
  local w = status_base + kind * status_codes + code
  words[w] = words[w] + 1
  local us = now - ring_t[i]
  local b = 0
  if us >= 1 then
    b = math.floor(math.log(us) / log_base)
    if b >= buckets then
      b = buckets - 1
    end
  end
  w = hist_base + kind * buckets + b
  words[w] = words[w] + 1
  if us > words[max_base + kind] then
    words[max_base + kind] = us
  end
  if kind == KIND_REDIRECT then
    local target = targets[ring_rank[i]]
    if target ~= "" then
      words[9] = words[9] + 1
      if status == 404 then
        words[8] = words[8] + 1
      elseif status == 302 then
        local location = headers["Location"] or headers["location"]
        if location ~= target then
          words[7] = words[7] + 1
        end
      end
    end
  end
end
