-- What the two wrk scripts of bench/load share (mix.lua, lean.lua require it): the threads'
-- numbering and wrk's own totals (setup and done, in wrk's main state), the environment kurz-load
-- sets, the thread's slot of the file shared with kurz-load (layout in
-- bench/loadgen/shared_counts.h), the codes and their Zipf-like popularity, and the draws of a
-- kind by weight and a code by popularity.
local ffi = require("ffi")

ffi.cdef [[
int open(const char* path, int flags);
int close(int fd);
void* mmap(void* addr, size_t length, int prot, int flags, int fd, long offset);
]]

local M = {KIND_REDIRECT = 0, KIND_CREATE = 1, KIND_STATS = 2, KIND_QR = 3}

local threads = {}
local next_slot = 0

-- Main state: number the threads; each writes its own slot of the shared file.
function setup(thread)
  thread:set("slot", next_slot)
  next_slot = next_slot + 1
  table.insert(threads, thread)
end

function M.need(name)
  local value = os.getenv(name)
  if value == nil or value == "" then
    error(name .. " is not set: run this script through bench/load (kurz-load)")
  end
  return value
end

function M.split_numbers(text)
  local out = {}
  for item in string.gmatch(text, "[^,]+") do
    table.insert(out, tonumber(item))
  end
  return out
end

-- The layout (KURZ_LOAD_LAYOUT, numbers) and this thread's words of the shared file (a double*).
function M.map_slot()
  local layout = M.split_numbers(M.need("KURZ_LOAD_LAYOUT"))
  local slot_words, max_slots = layout[1], layout[7]
  if slot >= max_slots then
    error("more wrk threads than " .. max_slots)
  end
  local path = M.need("KURZ_LOAD_SHM")
  local fd = ffi.C.open(path, 2) -- O_RDWR
  if fd < 0 then
    error("cannot open " .. path)
  end
  local mapped = ffi.C.mmap(nil, slot_words * max_slots * 8, 3, 1, fd, 0) -- PROT_READ|PROT_WRITE, MAP_SHARED
  ffi.C.close(fd)
  if ffi.cast("intptr_t", mapped) == -1 then
    error("cannot map " .. path)
  end
  return layout, ffi.cast("double*", mapped) + slot * slot_words
end

-- The codes of KURZ_LOAD_CODES (`code [target]` lines, rank order), their targets ("" when none),
-- and the cumulative Zipf-like popularity (KURZ_LOAD_ZIPF) by rank.
function M.codes()
  local s = tonumber(M.need("KURZ_LOAD_ZIPF"))
  local codes, targets = {}, {}
  for line in io.lines(M.need("KURZ_LOAD_CODES")) do
    local code, target = string.match(line, "^(%S+)%s*(%S*)")
    if code then
      table.insert(codes, code)
      table.insert(targets, target)
    end
  end
  local ncodes = #codes
  if ncodes == 0 then
    error("no codes in " .. M.need("KURZ_LOAD_CODES"))
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
  return codes, targets, cdf
end

-- pick_rank(), a code's rank by popularity, and pick_kind(), a kind by the weights of
-- KURZ_LOAD_MIX (four, in KIND_ order), drawn with math.random.
function M.pickers(cdf)
  local ncodes = #cdf
  local weights = M.split_numbers(M.need("KURZ_LOAD_MIX"))
  local weight_total = 0
  for i = 1, 4 do
    weight_total = weight_total + weights[i]
  end
  local function pick_rank()
    local u = math.random()
    local lo, hi = 1, ncodes
    while lo < hi do
      local mid = math.floor((lo + hi) / 2)
      if cdf[mid] > u then
        hi = mid
      else
        lo = mid + 1
      end
    end
    return lo
  end
  local function pick_kind()
    local draw = math.random() * weight_total
    for k = 1, 4 do
      draw = draw - weights[k]
      if draw < 0 then
        return k - 1
      end
    end
    return M.KIND_REDIRECT
  end
  return pick_rank, pick_kind
end

-- Main state, after the run: wrk's own totals (all kinds together, from wrk's per-connection
-- timing) for kurz-load, as JSON in KURZ_LOAD_WRK_OUT.
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

return M
