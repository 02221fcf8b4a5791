#include "kurz/stats/redis/stream_admin.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "kurz/clickstream/stream.h"
#include "kurz/redis/client.h"

namespace kurz::stats::redis {
namespace {

using kurz::redis::Reply;

// KEYS[1] the stream. Returns the number of entries removed.
const kurz::redis::Script kTrim(R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function less(a, b)
  local ams, aseq = parse(a)
  local bms, bseq = parse(b)
  return ams < bms or (ams == bms and aseq < bseq)
end
local lowest = nil
for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local name, candidate
  for j = 1, #group, 2 do
    if group[j] == 'name' then name = group[j + 1] end
    if group[j] == 'last-delivered-id' then candidate = group[j + 1] end
  end
  local pending = redis.call('XPENDING', KEYS[1], name)
  if pending[1] > 0 then candidate = pending[2] end
  if lowest == nil or less(candidate, lowest) then lowest = candidate end
end
if lowest == nil then return 0 end
return redis.call('XTRIM', KEYS[1], 'MINID', lowest)
)lua");

// KEYS[1] kurz:clicks:v2, KEYS[2] its appended counter, KEYS[3] the group's acked counter.
// ARGV[1] the group. Returns the XGROUP CREATE reply (an error reply for BUSYGROUP).
const kurz::redis::Script kCreateV2(R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SET', KEYS[3], redis.call('GET', KEYS[2]) or '0')
end
return redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
)lua");

common::Error unexpected(const Reply& reply) {
  return common::Error{common::ErrorKind::Internal, "unexpected_reply",
                       "unexpected reply about the click stream: " + reply.str};
}

bool busy_or_ok(const Reply& reply) {
  return !reply.is_error() || reply.str.rfind("BUSYGROUP", 0) == 0;
}

}  // namespace

common::Result<void> ensure_group(kurz::redis::Client& client, std::string_view group) {
  const auto v2 =
      client.eval(kCreateV2,
                  {std::string(clickstream::kStream), std::string(clickstream::kAppendedKey),
                   clickstream::acked_key(group)},
                  {std::string(group)});
  if (!v2.ok()) return v2.error();
  if (!busy_or_ok(v2.value())) return unexpected(v2.value());
  const auto legacy = client.command({"XGROUP", "CREATE", std::string(clickstream::kLegacyStream),
                                      std::string(group), "0", "MKSTREAM"});
  if (!legacy.ok()) return legacy.error();
  if (!busy_or_ok(legacy.value())) return unexpected(legacy.value());
  return {};
}

common::Result<std::int64_t> trim_acknowledged(kurz::redis::Client& client) {
  std::int64_t removed = 0;
  for (const auto stream : {clickstream::kLegacyStream, clickstream::kStream}) {
    const auto reply = client.eval(kTrim, {std::string(stream)}, {});
    if (!reply.ok()) return reply.error();
    if (reply.value().type != Reply::Type::Integer) return unexpected(reply.value());
    removed += reply.value().integer;
  }
  return removed;
}

common::Result<std::int64_t> stream_lag(kurz::redis::Client& client, std::string_view group) {
  const auto replies = client.pipeline(
      {{"XINFO", "GROUPS", std::string(clickstream::kLegacyStream)},
       {"XLEN", std::string(clickstream::kLegacyStream)},
       {"MGET", std::string(clickstream::kAppendedKey), clickstream::acked_key(group)}});
  if (!replies.ok()) return replies.error();
  std::int64_t lag = 0;
  const Reply& counters = replies.value()[2];
  if (counters.type == Reply::Type::Array && counters.elements.size() == 2) {
    const auto number = [](const Reply& r) {
      return r.type == Reply::Type::String ? std::atoll(r.str.c_str()) : 0LL;
    };
    lag += std::max<std::int64_t>(0, number(counters.elements[0]) - number(counters.elements[1]));
  }
  const Reply& groups = replies.value()[0];
  if (groups.is_error()) return lag;  // no legacy stream
  for (const auto& info : groups.elements) {
    bool mine = false;
    std::int64_t pending = 0;
    std::int64_t legacy = replies.value()[1].integer;  // when Redis cannot tell: an upper bound
    for (std::size_t i = 0; i + 1 < info.elements.size(); i += 2) {
      const std::string& field = info.elements[i].str;
      const Reply& value = info.elements[i + 1];
      if (field == "name") mine = value.str == group;
      if (field == "pending") pending = value.integer;
      if (field == "lag" && value.type == Reply::Type::Integer) legacy = value.integer;
    }
    if (mine) return lag + legacy + pending;
  }
  return lag;
}

}  // namespace kurz::stats::redis
