#include "kurz/stats/redis/click_apply.h"

#include <string>

#include "kurz/links/slug.h"
#include "kurz/redis/client.h"
#include "kurz/stats/memory_stats_store.h"
#include "kurz/stats/normalize.h"
#include "kurz/stats/redis/keys.h"

namespace kurz::stats::redis {
namespace {

// KEYS[1] kurz:clicks (format 1), KEYS[2] kurz:clicks:v2, KEYS[3] the top set, KEYS[4] the
// group's acknowledged-clicks counter of kurz:clicks:v2. ARGV[1] the group ('' = count without
// XACK), ARGV[2] days kept, ARGV[3] names per link, ARGV[4] the key prefix, ARGV[5] the "other"
// name; then per entry: its stream (1 or 2 = KEYS index), id, n (its clicks, for the counter),
// its number of rows k, and five per row: code, day number, referrer, user agent, count.
// Returns the number of clicks counted.
//
// Entries are XACKed one by one, and only the rows of those acknowledged here are tallied; the
// tallies are then written once per link, day and name. That gives exactly the counts of applying
// the counted clicks one at a time in stream order (names are admitted under the bound in order
// of first appearance, days in the window of the newest day), with far fewer writes.
const kurz::redis::Script kApply(R"lua(
local group, kept, max_names = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local prefix, other = ARGV[4], ARGV[5]
local links, order, counted, acked = {}, {}, 0, 0
local function tally(t, name, n)
  local c = t.counts[name]
  if c then t.counts[name] = c + n else t.counts[name] = n; t.order[#t.order + 1] = name end
end
local i = 6
while i <= #ARGV do
  local k = tonumber(ARGV[i + 3])
  local fresh = 1
  if group ~= '' then
    fresh = redis.call('XACK', KEYS[tonumber(ARGV[i])], group, ARGV[i + 1])
    if fresh == 1 and ARGV[i] == '2' then acked = acked + tonumber(ARGV[i + 2]) end
  end
  i = i + 4
  if fresh == 1 then
    for r = i, i + 5 * (k - 1), 5 do
      local code, n = ARGV[r], tonumber(ARGV[r + 4])
      local link = links[code]
      if not link then
        local base = prefix .. code
        local stored = tonumber(redis.call('HGET', base, 'newest'))
        link = {base = base, n = 0, stored = stored, newest = stored, days = {},
                refs = {counts = {}, order = {}}, uas = {counts = {}, order = {}}}
        links[code] = link
        order[#order + 1] = code
      end
      local day = tonumber(ARGV[r + 1])
      link.n = link.n + n
      if link.newest == nil or day > link.newest then link.newest = day end
      if day > link.newest - kept then link.days[day] = (link.days[day] or 0) + n end
      tally(link.refs, ARGV[r + 2], n)
      tally(link.uas, ARGV[r + 3], n)
      counted = counted + n
    end
  end
  i = i + 5 * k
end
-- One ZINCRBY per name. Membership is asked only when the new names might not all fit: one
-- ZMSCORE per 512 names.
local function write_names(key, t)
  local names = t.order
  local card = redis.call('ZCARD', key)
  if card + #names <= max_names then
    for _, name in ipairs(names) do redis.call('ZINCRBY', key, t.counts[name], name) end
    return
  end
  local spill = 0
  for first = 1, #names, 512 do
    local chunk = {}
    for j = first, math.min(first + 511, #names) do chunk[#chunk + 1] = names[j] end
    local scores = redis.call('ZMSCORE', key, unpack(chunk))
    for j, name in ipairs(chunk) do
      local n = t.counts[name]
      if scores[j] then
        redis.call('ZINCRBY', key, n, name)
      elseif card < max_names then
        redis.call('ZINCRBY', key, n, name)
        card = card + 1
      else
        spill = spill + n
      end
    end
  end
  if spill > 0 then redis.call('ZINCRBY', key, spill, other) end
end
for _, code in ipairs(order) do
  local link = links[code]
  local days = link.base .. ':days'
  redis.call('HINCRBY', link.base, 'total', link.n)
  redis.call('ZINCRBY', KEYS[3], link.n, code)
  if link.stored == nil or link.newest > link.stored then
    redis.call('HSET', link.base, 'newest', link.newest)
    if link.stored ~= nil then
      for _, field in ipairs(redis.call('HKEYS', days)) do
        if tonumber(field) <= link.newest - kept then redis.call('HDEL', days, field) end
      end
    end
  end
  for day, n in pairs(link.days) do
    if day > link.newest - kept then redis.call('HINCRBY', days, day, n) end
  end
  write_names(link.base .. ':ref', link.refs)
  write_names(link.base .. ':ua', link.uas)
end
if acked > 0 then redis.call('INCRBY', KEYS[4], acked) end
return counted
)lua");

// Codes whose stats keys are safe to write (see keys.h).
bool countable(const std::string& code) {
  return links::is_well_formed_code(code) && !links::is_reserved(code);
}

void append_entry(std::vector<std::string>& args, const StreamEntry& entry) {
  args.push_back(entry.stream == clickstream::Stream::Legacy ? "1" : "2");
  args.push_back(entry.id);
  args.push_back(std::to_string(entry.clicks));
  std::size_t rows = 0;
  if (entry.kind == StreamEntry::Kind::Clicks) {
    for (const auto& row : entry.rows) rows += countable(row.code) && row.count > 0;
  }
  args.push_back(std::to_string(rows));
  if (rows == 0) return;
  for (const auto& row : entry.rows) {
    if (!countable(row.code) || row.count == 0) continue;  // the decoder drops them already
    args.push_back(row.code);
    args.push_back(std::to_string(row.day));
    args.push_back(row.referrer);
    args.push_back(row.user_agent);
    args.push_back(std::to_string(row.count));
  }
}

std::vector<std::string> header(std::string_view group, std::size_t entries) {
  std::vector<std::string> args;
  args.reserve(5 + 9 * entries);
  args.push_back(std::string(group));
  args.push_back(std::to_string(kDaysKept));
  args.push_back(std::to_string(kMaxNamesPerLink));
  args.push_back(std::string(kStatsPrefix));
  args.push_back(std::string(kOther));
  return args;
}

common::Result<std::size_t> run(kurz::redis::Client& client, std::string_view group,
                                const std::vector<std::string>& args) {
  const auto reply = client.eval(
      kApply,
      {std::string(clickstream::kLegacyStream), std::string(clickstream::kStream),
       std::string(kTopKey), clickstream::acked_key(group.empty() ? kStatsGroup : group)},
      args);
  if (!reply.ok()) return reply.error();
  if (reply.value().type != kurz::redis::Reply::Type::Integer) {
    return common::Error{common::ErrorKind::Internal, "apply_failed",
                         "the click apply script failed: " + reply.value().str};
  }
  return static_cast<std::size_t>(reply.value().integer);
}

}  // namespace

common::Result<std::size_t> ack_and_apply(kurz::redis::Client& client, std::string_view group,
                                          const std::vector<StreamEntry>& entries) {
  auto args = header(group, entries.size());
  std::size_t passed = 0;
  for (const auto& entry : entries) {
    if (entry.kind == StreamEntry::Kind::Unknown) continue;  // stays pending
    append_entry(args, entry);
    ++passed;
  }
  if (passed == 0) return std::size_t{0};
  return run(client, group, args);
}

common::Result<void> apply_event(kurz::redis::Client& client, const common::ClickEvent& event) {
  StreamEntry entry;
  entry.stream = clickstream::Stream::V2;
  entry.id = "0-0";
  entry.kind = StreamEntry::Kind::Clicks;
  entry.rows = clickstream::aggregate({event});
  auto args = header("", 1);
  append_entry(args, entry);
  const auto counted = run(client, "", args);
  if (!counted.ok()) return counted.error();
  return {};
}

}  // namespace kurz::stats::redis
