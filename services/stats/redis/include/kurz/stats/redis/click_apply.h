#pragma once
// Applying click-stream entries (services/clickstream's stream.h) to the stats keys (keys.h),
// exactly once per group.

#include <cstddef>
#include <string_view>
#include <vector>

#include "kurz/clickstream/stream.h"
#include "kurz/common/click.h"
#include "kurz/common/error.h"

namespace kurz::redis {
class Client;
}  // namespace kurz::redis

namespace kurz::stats::redis {

using StreamEntry = clickstream::Entry;

// In ONE Lua script (atomic), for each entry: XACK it for `group` on its stream, and count its
// rows only if that XACK acknowledged it (returned 1); then write the tallies, once per link, day
// and name, and raise the group's acknowledged-clicks counter (stream.h) by the n of the format 2
// entries acknowledged. An entry that some consumer of the group already acknowledged is never
// counted again, whoever tries (a worker racing the one that claimed its entries), so each entry
// is counted exactly once per group. Entries of kind Unknown must not be passed (they stay
// pending); Malformed ones are acknowledged and not counted. Returns the clicks counted.
// Unavailable when Redis is away; an error reply of the script (a foreign key of the wrong
// type) is Internal. The caller bounds the rows, which bounds the time Redis spends in one
// script (ConsumerOptions::apply_max_rows).
common::Result<std::size_t> ack_and_apply(kurz::redis::Client& client, std::string_view group,
                                          const std::vector<StreamEntry>& entries);

// Counts one event directly, without the stream (tests, tools, RedisStatsStore::apply).
common::Result<void> apply_event(kurz::redis::Client& client, const common::ClickEvent& event);

}  // namespace kurz::stats::redis
