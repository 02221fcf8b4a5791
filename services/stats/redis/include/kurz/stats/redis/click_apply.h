#pragma once
// Applying click-stream entries to the stats keys (keys.h), exactly once per group.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kurz/common/click.h"
#include "kurz/common/error.h"

namespace kurz::redis {
class Client;
struct Reply;
}  // namespace kurz::redis

namespace kurz::stats::redis {

// One entry of kurz:clicks. `event` is nullopt when the entry was deleted or is malformed;
// such an entry is acknowledged and not counted.
struct StreamEntry {
  std::string id;
  std::optional<common::ClickEvent> event;
};

// The entries of an XREADGROUP stream reply's entry list, or of XAUTOCLAIM's second element:
// [[id, [field, value, ...] or nil], ...]. Anything else yields no entries.
std::vector<StreamEntry> parse_stream_entries(const kurz::redis::Reply& entries);

// For each entry, in ONE Lua script (atomic): XACK it for `group`, and count it in the stats
// only if that XACK acknowledged it (returned 1). An entry that some consumer of the group
// already acknowledged is never counted again, whoever tries, so each entry is counted exactly
// once per group even when consumers die and others reclaim their entries. Referrers and user
// agents are normalised (normalize.h) before the call; the bounds on names and days are applied
// inside the script. Returns how many entries were counted. Unavailable when Redis is away; an
// error reply of the script (a foreign key of the wrong type) is Internal.
common::Result<std::size_t> ack_and_apply(kurz::redis::Client& client, std::string_view group,
                                          const std::vector<StreamEntry>& entries);

// Counts one event directly, without the stream (tests, tools, RedisStatsStore::apply).
common::Result<void> apply_event(kurz::redis::Client& client, const common::ClickEvent& event);

}  // namespace kurz::stats::redis
