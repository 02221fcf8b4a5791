#pragma once
// The click stream's contract: the one place that defines it, for its producer (the redirect
// service, services/redirect/redis), its consumer (the stats service, services/stats/redis) and
// the stage 2 monolith, which runs both. Neither side depends on the other, both depend on this.
//
// Keys (one Redis, or a primary with replicas; not Redis Cluster: scripts compute keys):
//
//   kurz:clicks:v2                 stream, entry format 2 (below): ONE entry per flushed batch of
//                                  a producer, carrying the batch's clicks aggregated into rows.
//                                  No MAXLEN: only the consumer trims, below what every group
//                                  has acknowledged.
//   kurz:clicks:v2:appended        integer: clicks ever appended to kurz:clicks:v2 (the sum of the
//                                  entries' n), raised by the producer script with each entry
//   kurz:clicks:v2:acked:<group>   integer: clicks of kurz:clicks:v2 entries that <group> has
//                                  acknowledged, raised by the consumer's apply script in the same
//                                  atomic step as the XACK. appended - acked = the group's lag in
//                                  clicks (entries unread or pending), without reading them.
//   kurz:clicks                    stream, format 1 ("legacy"): one entry per click, fields
//                                    t epoch ms (UTC), c code, r raw referrer, u raw user agent
//                                  and no field v. Written by producers before this format;
//                                  nothing writes it any more, consumers still read it (below).
//   kurz:clicks:producer:<id>      string: a producer's last appended batch sequence (TTL 1 day,
//                                  renewed by each batch). A batch whose reply was lost (timeout)
//                                  and is retried is not appended twice.
//   group "stats"                  the stats workers' consumer group, on both streams.
//
// Format 2, an entry of kurz:clicks:v2, fields:
//   v  "2"          the format version. A consumer that does not know an entry's version leaves
//                   it PENDING (never acknowledged, never counted): a newer consumer of the group
//                   takes it over (XAUTOCLAIM) and counts it.
//   n  clicks       decimal, 1..kMaxClicksPerEntry: the sum of the rows' counts
//   d  rows         the batch aggregated: per distinct (code, day, referrer, user agent), in
//                   order of first appearance in the batch, one row, concatenated:
//                     <count>,<day>,<C>,<R>,<U>;<code><referrer><user agent>
//                   C, R, U the byte lengths of the three names; numbers in decimal; day = days
//                   since 1970-01-01 UTC (may be negative); count >= 1. E.g. 2 clicks and 1:
//                     2,20780,3,9,6;abcx.examplecurl/81,20780,3,6,7;defdirectunknown
//                   Names are normalised by the producer (normalize.h: referrer host or
//                   "direct"/"other", user agent valid UTF-8 cut to 200 bytes, or "unknown").
// Other fields are ignored: a producer may add a field that format-2 consumers can ignore; any
// other change is a new version (and, if old consumers would misread it, a new stream key).
//
// Why a new stream key rather than a v field on kurz:clicks: the consumers released before
// format 2 read kurz:clicks only, and acknowledge every entry they cannot parse (no t or c) as
// "acknowledge only": an aggregated entry written there would be acknowledged by such a worker and
// its clicks lost. They never read kurz:clicks:v2, so during a rolling update, in either order:
//   - old producers keep appending format 1 to kurz:clicks: old workers count it, and so do new
//     workers, which read both streams (XREADGROUP ... STREAMS kurz:clicks kurz:clicks:v2);
//   - new producers append format 2 to kurz:clicks:v2: only new workers read it; until one runs,
//     its entries wait there (kurz_click_stream_lag shows them), none is lost;
//   - an entry in kurz:clicks with a field v (a format after 1 there) is left pending by new
//     workers too (old ones would acknowledge it: no format writes there).
// Once no format 1 producer runs and kurz:clicks has no pending or unread entry (lag 0), a later
// release may stop reading it. The same recipe serves a future format 3 that format 2 workers
// would misread: a new key; one they can skip safely may share kurz:clicks:v2 with v "3", which
// they leave pending for a format 3 worker (each claim cycle passes it around; it is not lost).
// Untrusted input: the decoder validates every entry (bounds, numbers, the row layout, n), drops
// rows whose code is not a countable short code (links/slug.h), normalises the user agent again
// and replaces an implausible referrer host by "other". An entry that is malformed is acknowledged
// and not counted. Format 1 entries are decoded as before (one row of count 1, names normalised).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kurz/common/click.h"
#include "kurz/common/error.h"

namespace kurz::redis {
class Client;
struct Reply;
}  // namespace kurz::redis

namespace kurz::clickstream {

inline constexpr std::string_view kStream = "kurz:clicks:v2";
inline constexpr std::string_view kAppendedKey = "kurz:clicks:v2:appended";
inline constexpr std::string_view kAckedPrefix = "kurz:clicks:v2:acked:";
inline constexpr std::string_view kLegacyStream = "kurz:clicks";
inline constexpr std::string_view kProducerPrefix = "kurz:clicks:producer:";
inline constexpr std::string_view kGroup = "stats";
inline constexpr std::string_view kVersion = "2";

inline constexpr std::uint64_t kMaxClicksPerEntry = 10'000'000;
inline constexpr std::size_t kMaxRowsPerEntry = 100'000;
inline constexpr std::int64_t kMaxAbsDay = 1'000'000;  // about year 4700 (and 800 BC)

inline std::string acked_key(std::string_view group) {
  return std::string(kAckedPrefix).append(group);
}

// Which stream an entry came from.
enum class Stream { Legacy, V2 };
inline std::string_view key_of(Stream stream) {
  return stream == Stream::Legacy ? kLegacyStream : kStream;
}

// One aggregated row: `count` clicks on `code` on `day`, from `referrer` with `user_agent`
// (normalised names).
struct Row {
  std::string code;
  std::int64_t day = 0;
  std::string referrer;
  std::string user_agent;
  std::uint64_t count = 0;

  friend bool operator==(const Row& a, const Row& b) {
    return a.code == b.code && a.day == b.day && a.referrer == b.referrer &&
           a.user_agent == b.user_agent && a.count == b.count;
  }
};

// --- producer ---------------------------------------------------------------------------------

// The batch aggregated into rows: names normalised, in order of first appearance. Every event
// counts (the consumer decides what is countable). The counts sum to batch.size().
std::vector<Row> aggregate(const std::vector<common::ClickEvent>& batch);

// The field d of a format 2 entry for `rows`.
std::string encode_rows(const std::vector<Row>& rows);

// Appends `batch` as ONE format 2 entry of kurz:clicks:v2, with one EVALSHA (one round trip),
// unless this producer already appended `sequence` (then nothing): `producer_key` is
// kurz:clicks:producer:<id>, unique to this producer process. An empty batch appends nothing.
// Confirmed by WAIT (REDIS_WAIT_REPLICAS) on the same connection before it returns; not confirmed
// in time: Unavailable "not_replicated" (the caller keeps the batch and retries the same
// sequence, which then appends nothing twice and WAITs again).
// True when appended, false for a sequence appended before. Redis away, or an error reply:
// Unavailable (the caller retries the same sequence).
common::Result<bool> append_batch(kurz::redis::Client& client, const std::string& producer_key,
                                  std::uint64_t sequence,
                                  const std::vector<common::ClickEvent>& batch);

// --- consumer ---------------------------------------------------------------------------------

// One entry as read from either stream.
struct Entry {
  enum class Kind {
    Clicks,     // decoded: acknowledge it and count its rows
    Malformed,  // of a known version but unusable (or deleted): acknowledge it, count nothing
    Unknown,    // of a version this build does not know: leave it pending
  };
  Stream stream = Stream::V2;
  std::string id;
  Kind kind = Kind::Malformed;
  std::uint64_t clicks = 0;  // format 2: its n (what the producer added to kurz:clicks:v2:appended)
  std::vector<Row> rows;     // Clicks only: the countable rows (possibly none)
};

// The entries of an XREADGROUP stream reply's entry list, or of XAUTOCLAIM's second element:
// [[id, [field, value, ...] or nil], ...], read from `stream`. Elements of any other shape are
// skipped; every [id, fields] element yields one entry.
std::vector<Entry> decode_entries(const kurz::redis::Reply& entries, Stream stream);

// A format 1 entry's fields decoded into a click, as the consumers before format 2 did; false
// when the entry is malformed (no t, a t the clock cannot hold, or no c).
bool decode_legacy_fields(const kurz::redis::Reply& fields, common::ClickEvent& event);

}  // namespace kurz::clickstream
