#pragma once
// Housekeeping of the click streams (services/clickstream's stream.h): the consumer group,
// trimming, and lag.

#include <cstdint>
#include <string_view>

#include "kurz/common/error.h"

namespace kurz::redis {
class Client;
}

namespace kurz::stats::redis {

// Creates `group` at 0 on both streams, kurz:clicks:v2 and kurz:clicks (MKSTREAM); a group that
// already exists (BUSYGROUP) is fine. Creating at 0 means a new group counts the whole retained
// history. When it creates kurz:clicks:v2 itself (the stream was gone: Redis emptied, or deleted
// by hand), the group's acknowledged-clicks counter is set to the appended counter, so that the
// lag starts at 0.
common::Result<void> ensure_group(kurz::redis::Client& client, std::string_view group);

// Trims each stream below the oldest entry that some group may still need: for every group, its
// oldest pending entry, or its last-delivered id when nothing is pending (XTRIM MINID, exact).
// Computed and applied in one script per stream, so no group can move in between. A stream
// without any group is left alone. Returns the number of entries removed (both streams).
common::Result<std::int64_t> trim_acknowledged(kurz::redis::Client& client);

// Clicks that `group` has not yet counted (or acknowledged), in entries not yet delivered to it
// or delivered but pending:
//   kurz:clicks:v2: appended - acked:<group> (the counters of stream.h; 0 at least);
//   kurz:clicks (one click per entry): XINFO GROUPS "lag" (when Redis cannot tell, the stream
//   length, an upper bound) plus the group's pending count.
// Three commands in one round trip, however long the streams.
common::Result<std::int64_t> stream_lag(kurz::redis::Client& client, std::string_view group);

}  // namespace kurz::stats::redis
