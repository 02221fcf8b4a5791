#include "kurz/stats/redis/click_apply.h"

#include <cerrno>
#include <chrono>
#include <cstdlib>

#include "kurz/common/time.h"
#include "kurz/links/slug.h"
#include "kurz/redis/client.h"
#include "kurz/stats/memory_stats_store.h"
#include "kurz/stats/normalize.h"
#include "kurz/stats/redis/keys.h"

namespace kurz::stats::redis {
namespace {

// KEYS[1] the stream, KEYS[2] the top set. ARGV[1] the group ('' = count without XACK),
// ARGV[2] days kept, ARGV[3] names per link, ARGV[4] the key prefix, ARGV[5] the "other" name,
// then five per entry: id, code ('' = acknowledge only), day number, referrer, user agent.
// Returns the number of entries counted.
//
// Entries are XACKed one by one, and only those acknowledged here are tallied; the tallies are
// then written once per link, day and name. That gives exactly the counts of applying the
// counted entries one at a time in stream order (names are admitted under the bound in order of
// first appearance, days in the window of the newest day), with far fewer writes.
const kurz::redis::Script kApply(R"lua(
local group, kept, max_names = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local prefix, other = ARGV[4], ARGV[5]
local links, order, counted = {}, {}, 0
local function tally(t, name)
  local c = t.counts[name]
  if c then t.counts[name] = c + 1 else t.counts[name] = 1; t.order[#t.order + 1] = name end
end
for i = 6, #ARGV, 5 do
  local fresh = 1
  if group ~= '' then fresh = redis.call('XACK', KEYS[1], group, ARGV[i]) end
  local code = ARGV[i + 1]
  if fresh == 1 and code ~= '' then
    local link = links[code]
    if not link then
      local base = prefix .. code
      local stored = tonumber(redis.call('HGET', base, 'newest'))
      link = {base = base, n = 0, stored = stored, newest = stored, days = {},
              refs = {counts = {}, order = {}}, uas = {counts = {}, order = {}}}
      links[code] = link
      order[#order + 1] = code
    end
    local day = tonumber(ARGV[i + 2])
    link.n = link.n + 1
    if link.newest == nil or day > link.newest then link.newest = day end
    if day > link.newest - kept then link.days[day] = (link.days[day] or 0) + 1 end
    tally(link.refs, ARGV[i + 3])
    tally(link.uas, ARGV[i + 4])
    counted = counted + 1
  end
end
local function write_names(key, t)
  local card, spill = nil, 0
  for _, name in ipairs(t.order) do
    local n = t.counts[name]
    if redis.call('ZSCORE', key, name) then
      redis.call('ZINCRBY', key, n, name)
    else
      card = card or redis.call('ZCARD', key)
      if card < max_names then
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
  redis.call('ZINCRBY', KEYS[2], link.n, code)
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
return counted
)lua");

std::optional<common::ClickEvent> parse_fields(const kurz::redis::Reply& fields) {
  if (fields.type != kurz::redis::Reply::Type::Array) return std::nullopt;
  common::ClickEvent event;
  bool has_time = false;
  for (std::size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
    const std::string& name = fields.elements[i].str;
    const std::string& value = fields.elements[i + 1].str;
    if (name == "t") {
      // Milliseconds since the epoch that the clock (nanoseconds: years 1678..2262) can hold:
      // anything else is malformed. Found by fuzzing (fuzz/regressions/click_decoder/): a huge
      // value overflowed the conversion to the clock's nanoseconds.
      constexpr long long kMaxMs =
          std::chrono::duration_cast<std::chrono::milliseconds>(common::TimePoint::duration::max())
              .count();
      char* end = nullptr;
      errno = 0;
      const long long ms = std::strtoll(value.c_str(), &end, 10);
      has_time = !value.empty() && *end == '\0' && errno == 0 && ms >= -kMaxMs && ms <= kMaxMs;
      if (has_time) event.at = common::TimePoint(std::chrono::milliseconds(ms));
    } else if (name == "c") {
      event.code = value;
    } else if (name == "r") {
      event.referrer = value;
    } else if (name == "u") {
      event.user_agent = value;
    }
  }
  if (!has_time || event.code.empty()) return std::nullopt;
  return event;
}

// Codes whose stats keys are safe to write (see keys.h).
bool countable(const std::string& code) {
  return links::is_well_formed_code(code) && !links::is_reserved(code);
}

void append_entry(std::vector<std::string>& args, const std::string& id,
                  const std::optional<common::ClickEvent>& event) {
  args.push_back(id);
  if (!event || !countable(event->code)) {
    args.insert(args.end(), {"", "0", "", ""});
    return;
  }
  args.push_back(event->code);
  args.push_back(std::to_string(common::day_number(event->at)));
  args.push_back(normalize_referrer(event->referrer));
  args.push_back(normalize_user_agent(event->user_agent));
}

common::Result<std::size_t> run(kurz::redis::Client& client, const std::vector<std::string>& args) {
  const auto reply = client.eval(kApply, {std::string(kClickStream), std::string(kTopKey)}, args);
  if (!reply.ok()) return reply.error();
  if (reply.value().type != kurz::redis::Reply::Type::Integer) {
    return common::Error{common::ErrorKind::Internal, "apply_failed",
                         "the click apply script failed: " + reply.value().str};
  }
  return static_cast<std::size_t>(reply.value().integer);
}

std::vector<std::string> header(std::string_view group, std::size_t entries) {
  std::vector<std::string> args;
  args.reserve(5 + 5 * entries);
  args.push_back(std::string(group));
  args.push_back(std::to_string(kDaysKept));
  args.push_back(std::to_string(kMaxNamesPerLink));
  args.push_back(std::string(kStatsPrefix));
  args.push_back(std::string(kOther));
  return args;
}

}  // namespace

std::vector<StreamEntry> parse_stream_entries(const kurz::redis::Reply& entries) {
  std::vector<StreamEntry> parsed;
  if (entries.type != kurz::redis::Reply::Type::Array) return parsed;
  parsed.reserve(entries.elements.size());
  for (const auto& entry : entries.elements) {
    if (entry.type != kurz::redis::Reply::Type::Array || entry.elements.size() != 2) continue;
    parsed.push_back({entry.elements[0].str, parse_fields(entry.elements[1])});
  }
  return parsed;
}

common::Result<std::size_t> ack_and_apply(kurz::redis::Client& client, std::string_view group,
                                          const std::vector<StreamEntry>& entries) {
  if (entries.empty()) return std::size_t{0};
  auto args = header(group, entries.size());
  for (const auto& entry : entries) append_entry(args, entry.id, entry.event);
  return run(client, args);
}

common::Result<void> apply_event(kurz::redis::Client& client, const common::ClickEvent& event) {
  auto args = header("", 1);
  append_entry(args, "0-0", event);
  const auto counted = run(client, args);
  if (!counted.ok()) return counted.error();
  return {};
}

}  // namespace kurz::stats::redis
