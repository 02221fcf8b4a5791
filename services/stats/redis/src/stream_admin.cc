#include "kurz/stats/redis/stream_admin.h"

#include <string>

#include "kurz/redis/client.h"
#include "kurz/stats/redis/keys.h"

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

common::Error unexpected(const Reply& reply) {
  return common::Error{common::ErrorKind::Internal, "unexpected_reply",
                       "unexpected reply about the click stream: " + reply.str};
}

}  // namespace

common::Result<void> ensure_group(kurz::redis::Client& client, std::string_view group) {
  const auto reply = client.command(
      {"XGROUP", "CREATE", std::string(kClickStream), std::string(group), "0", "MKSTREAM"});
  if (!reply.ok()) return reply.error();
  if (reply.value().is_error() && reply.value().str.rfind("BUSYGROUP", 0) != 0) {
    return unexpected(reply.value());
  }
  return {};
}

common::Result<std::int64_t> trim_acknowledged(kurz::redis::Client& client) {
  const auto reply = client.eval(kTrim, {std::string(kClickStream)}, {});
  if (!reply.ok()) return reply.error();
  if (reply.value().type != Reply::Type::Integer) return unexpected(reply.value());
  return static_cast<std::int64_t>(reply.value().integer);
}

common::Result<std::int64_t> stream_lag(kurz::redis::Client& client, std::string_view group) {
  const auto replies = client.pipeline(
      {{"XINFO", "GROUPS", std::string(kClickStream)}, {"XLEN", std::string(kClickStream)}});
  if (!replies.ok()) return replies.error();
  const Reply& groups = replies.value()[0];
  if (groups.is_error()) return std::int64_t{0};  // no stream yet
  for (const auto& info : groups.elements) {
    bool mine = false;
    std::int64_t pending = 0;
    std::int64_t lag = replies.value()[1].integer;  // when Redis cannot tell: an upper bound
    for (std::size_t i = 0; i + 1 < info.elements.size(); i += 2) {
      const std::string& field = info.elements[i].str;
      const Reply& value = info.elements[i + 1];
      if (field == "name") mine = value.str == group;
      if (field == "pending") pending = value.integer;
      if (field == "lag" && value.type == Reply::Type::Integer) lag = value.integer;
    }
    if (mine) return lag + pending;
  }
  return std::int64_t{0};
}

}  // namespace kurz::stats::redis
