#pragma once
// Housekeeping of the click stream: the consumer group, trimming, and lag.

#include <cstdint>
#include <string_view>

#include "kurz/common/error.h"

namespace kurz::redis {
class Client;
}

namespace kurz::stats::redis {

// XGROUP CREATE kurz:clicks <group> 0 MKSTREAM; a group that already exists (BUSYGROUP) is fine.
// Creating at 0 means a new group counts the whole retained history.
common::Result<void> ensure_group(kurz::redis::Client& client, std::string_view group);

// Trims kurz:clicks below the oldest entry that some group may still need: for every group, its
// oldest pending entry, or its last-delivered id when nothing is pending (XTRIM MINID, exact).
// Computed and applied in one script, so no group can move in between. A stream without any
// group is left alone. Returns the number of entries removed.
common::Result<std::int64_t> trim_acknowledged(kurz::redis::Client& client);

// Entries of kurz:clicks that `group` has not yet counted: those not yet delivered to it
// (XINFO GROUPS "lag"; when Redis cannot tell, the stream length, an upper bound) plus those
// delivered but not yet acknowledged (its pending count). 0 when the group does not exist.
common::Result<std::int64_t> stream_lag(kurz::redis::Client& client, std::string_view group);

}  // namespace kurz::stats::redis
