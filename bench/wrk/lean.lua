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
local ffi = require("ffi")

ffi.cdef [[
int open(const char* path, int flags);
int close(int fd);
void* mmap(void* addr, size_t length, int prot, int flags, int fd, long offset);
]]

local KIND_REDIRECT, KIND_CREATE, KIND_STATS, KIND_QR = 0, 1, 2, 3

local threads = {}
local next_slot = 0

function setup(thread)
  thread:set("slot", next_slot)
  next_slot = next_slot + 1
  table.insert(threads, thread)
end

local function need(name)
  local value = os.getenv(name)
  if value == nil or value == "" then
    error(name .. " is not set: run this script through bench/load (kurz-load)")
  end
  return value
end

local function split_numbers(text)
  local out = {}
  for item in string.gmatch(text, "[^,]+") do
    table.insert(out, tonumber(item))
  end
  return out
end

local words
local prepared, prepared_kind, nprepared = {}, {}, 0
local pos = 0
local prefix, run, host, headers, api_key
local creates = 0

function init(args)
  local layout = split_numbers(need("KURZ_LOAD_LAYOUT"))
  local slot_words, max_slots = layout[1], layout[7]
  if slot >= max_slots then
    error("more wrk threads than " .. max_slots)
  end
  local path = need("KURZ_LOAD_SHM")
  local fd = ffi.C.open(path, 2) -- O_RDWR
  if fd < 0 then
    error("cannot open " .. path)
  end
  local mapped = ffi.C.mmap(nil, slot_words * max_slots * 8, 3, 1, fd, 0)
  ffi.C.close(fd)
  if ffi.cast("intptr_t", mapped) == -1 then
    error("cannot map " .. path)
  end
  words = ffi.cast("double*", mapped) + slot * slot_words

  local weights = split_numbers(need("KURZ_LOAD_MIX"))
  local weight_total = weights[1] + weights[2] + weights[3] + weights[4]
  local s = tonumber(need("KURZ_LOAD_ZIPF"))
  local codes = {}
  for line in io.lines(need("KURZ_LOAD_CODES")) do
    local code = string.match(line, "^(%S+)")
    if code then
      table.insert(codes, code)
    end
  end
  local ncodes = #codes
  if ncodes == 0 then
    error("no codes in " .. need("KURZ_LOAD_CODES"))
  end
  local cdf, sum = {}, 0
  for r = 1, ncodes do
    sum = sum + 1 / (r ^ s)
    cdf[r] = sum
  end
  for r = 1, ncodes do
    cdf[r] = cdf[r] / sum
  end
  cdf[ncodes] = 1
  prefix = os.getenv("KURZ_LOAD_PREFIX") or ""
  api_key = os.getenv("KURZ_LOAD_API_KEY") or ""
  run = need("KURZ_LOAD_RUN")
  host = need("KURZ_LOAD_HOST")
  headers = {["Host"] = host, ["User-Agent"] = "kurz-load", ["Accept"] = "*/*"}
  math.randomseed(tonumber(need("KURZ_LOAD_SEED")) * 1000 + slot + 1)

  local function pick_rank()
    local u = math.random()
    local lo, hi = 1, ncodes
    while lo < hi do
      local mid = math.floor((lo + hi) / 2)
      if cdf[mid] > u then hi = mid else lo = mid + 1 end
    end
    return lo
  end
  local function pick_kind()
    local draw = math.random() * weight_total
    for k = 1, 4 do
      draw = draw - weights[k]
      if draw < 0 then return k - 1 end
    end
    return KIND_REDIRECT
  end

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

-- Main state, after the run: wrk's own totals for kurz-load (as mix.lua).
function done(summary, latency, requests)
  local path = os.getenv("KURZ_LOAD_WRK_OUT")
  if path == nil or path == "" then
    return
  end
  local e = summary.errors
  local f = assert(io.open(path, "w"))
  f:write(string.format(
    '{"duration_us": %.0f, "requests": %.0f, "bytes": %.0f, "threads": %d, ' ..
    '"errors": {"connect": %.0f, "read": %.0f, "write": %.0f, "status": %.0f, "timeout": %.0f}, ' ..
    '"latency_us": {"min": %.0f, "max": %.0f, "mean": %.3f, "stdev": %.3f, ' ..
    '"p50": %.0f, "p90": %.0f, "p99": %.0f, "p999": %.0f}}\n',
    summary.duration, summary.requests, summary.bytes, #threads,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.max, latency.mean, latency.stdev,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9)))
  f:close()
end
