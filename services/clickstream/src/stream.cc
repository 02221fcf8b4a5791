#include "kurz/clickstream/stream.h"

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <unordered_map>

#include "kurz/common/time.h"
#include "kurz/common/utf8.h"
#include "kurz/links/slug.h"
#include "kurz/redis/client.h"
#include "kurz/stats/normalize.h"

namespace kurz::clickstream {
namespace {

using kurz::redis::Reply;

// KEYS[1] the stream, KEYS[2] this producer's key, KEYS[3] the appended counter. ARGV[1] the
// batch sequence, ARGV[2] the producer key's TTL, ARGV[3] the version, ARGV[4] n, ARGV[5] d.
// Returns 1 when appended, 0 for a sequence appended before. A sequence appended before is still
// a write (EXPIRE): the WAIT after it then confirms that the replicas have everything up to it,
// the earlier append included (a retry after a WAIT that timed out).
const kurz::redis::Script kAppend(R"lua(
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[1]) <= last then
  redis.call('EXPIRE', KEYS[2], ARGV[2])
  return 0
end
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
redis.call('XADD', KEYS[1], '*', 'v', ARGV[3], 'n', ARGV[4], 'd', ARGV[5])
redis.call('INCRBY', KEYS[3], ARGV[4])
return 1
)lua");

constexpr const char* kProducerTtlSeconds = "86400";

template <typename T>
bool parse_number(std::string_view text, T& out) {
  if (text.empty() || text.size() > 20 || text.front() == '+') return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

// Reads "<number><terminator>" at `at`, advancing past the terminator.
template <typename T>
bool read_number(std::string_view data, std::size_t& at, char terminator, T& out) {
  const auto end = data.find(terminator, at);
  if (end == std::string_view::npos || end - at > 20) return false;
  if (!parse_number(data.substr(at, end - at), out)) return false;
  at = end + 1;
  return true;
}

bool countable(std::string_view code) {
  return links::is_well_formed_code(code) && !links::is_reserved(code);
}

// A referrer name from a format 2 entry: the producer's normalisation cannot be re-run (it
// expects a URL), so check that it could be its output, else "other".
std::string referrer_name(std::string_view name) {
  if (name.empty()) return std::string(stats::kDirect);
  if (name.size() > 255 || !common::is_valid_utf8(name)) return std::string(stats::kOther);
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '/' || c == '?' || c == '#' || c == '@') {
      return std::string(stats::kOther);
    }
  }
  return std::string(name);
}

const Reply* field(const Reply& fields, std::string_view name) {
  for (std::size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
    if (fields.elements[i].str == name) return &fields.elements[i + 1];
  }
  return nullptr;
}

void decode_v2(const Reply& fields, Entry& entry) {
  entry.kind = Entry::Kind::Malformed;
  const Reply* version = field(fields, "v");
  if (!version) return;
  if (version->str != kVersion) {
    entry.kind = Entry::Kind::Unknown;
    return;
  }
  const Reply* n = field(fields, "n");
  const Reply* d = field(fields, "d");
  std::uint64_t clicks = 0;
  if (!n || !d || !parse_number(n->str, clicks) || clicks == 0 || clicks > kMaxClicksPerEntry) {
    return;
  }
  entry.clicks = clicks;  // what the producer added to the appended counter, even if malformed
  const std::string_view data = d->str;
  std::vector<Row> rows;
  std::uint64_t sum = 0;
  std::size_t at = 0;
  while (at < data.size()) {
    if (rows.size() == kMaxRowsPerEntry) return;
    Row row;
    std::size_t code_size = 0, referrer_size = 0, agent_size = 0;
    if (!read_number(data, at, ',', row.count) || !read_number(data, at, ',', row.day) ||
        !read_number(data, at, ',', code_size) || !read_number(data, at, ',', referrer_size) ||
        !read_number(data, at, ';', agent_size)) {
      return;
    }
    if (row.count == 0 || row.count > clicks - sum || row.day < -kMaxAbsDay ||
        row.day > kMaxAbsDay) {
      return;
    }
    const std::size_t left = data.size() - at;
    if (code_size > left || referrer_size > left - code_size ||
        agent_size > left - code_size - referrer_size) {
      return;
    }
    sum += row.count;
    row.code = std::string(data.substr(at, code_size));
    at += code_size;
    row.referrer = referrer_name(data.substr(at, referrer_size));
    at += referrer_size;
    row.user_agent = stats::normalize_user_agent(data.substr(at, agent_size));
    at += agent_size;
    if (countable(row.code)) rows.push_back(std::move(row));
  }
  if (sum != clicks) return;
  entry.rows = std::move(rows);
  entry.kind = Entry::Kind::Clicks;
}

void decode_legacy(const Reply& fields, Entry& entry) {
  if (field(fields, "v")) {  // a format after 1 in kurz:clicks: not ours to judge
    entry.kind = Entry::Kind::Unknown;
    return;
  }
  common::ClickEvent event;
  if (!decode_legacy_fields(fields, event)) {
    entry.kind = Entry::Kind::Malformed;
    return;
  }
  entry.kind = Entry::Kind::Clicks;
  if (!countable(event.code)) return;
  entry.rows.push_back({std::move(event.code), common::day_number(event.at),
                        stats::normalize_referrer(event.referrer),
                        stats::normalize_user_agent(event.user_agent), 1});
}

}  // namespace

std::vector<Row> aggregate(const std::vector<common::ClickEvent>& batch) {
  std::vector<Row> rows;
  std::unordered_map<std::string, std::size_t> index;
  index.reserve(batch.size());
  std::string key;
  for (const auto& event : batch) {
    Row row{event.code, common::day_number(event.at), stats::normalize_referrer(event.referrer),
            stats::normalize_user_agent(event.user_agent), 1};
    key.clear();
    key.append(row.code).push_back('\0');
    key.append(std::to_string(row.day)).push_back('\0');
    key.append(row.referrer).push_back('\0');
    key.append(row.user_agent);
    const auto [it, fresh] = index.try_emplace(key, rows.size());
    if (fresh) {
      rows.push_back(std::move(row));
    } else {
      ++rows[it->second].count;
    }
  }
  return rows;
}

std::string encode_rows(const std::vector<Row>& rows) {
  std::string out;
  for (const auto& row : rows) {
    out.append(std::to_string(row.count)).push_back(',');
    out.append(std::to_string(row.day)).push_back(',');
    out.append(std::to_string(row.code.size())).push_back(',');
    out.append(std::to_string(row.referrer.size())).push_back(',');
    out.append(std::to_string(row.user_agent.size())).push_back(';');
    out.append(row.code).append(row.referrer).append(row.user_agent);
  }
  return out;
}

common::Result<bool> append_batch(kurz::redis::Client& client, const std::string& producer_key,
                                  std::uint64_t sequence,
                                  const std::vector<common::ClickEvent>& batch) {
  if (batch.empty()) return false;
  const auto reply = client.eval_replicated(
      kAppend, {std::string(kStream), producer_key, std::string(kAppendedKey)},
      {std::to_string(sequence), kProducerTtlSeconds, std::string(kVersion),
       std::to_string(batch.size()), encode_rows(aggregate(batch))});
  if (!reply.ok()) return reply.error();
  if (reply.value().type != Reply::Type::Integer) {
    return common::Error{common::ErrorKind::Unavailable, "unavailable",
                         "appending to the click stream failed: " + reply.value().str};
  }
  return reply.value().integer == 1;
}

bool decode_legacy_fields(const Reply& fields, common::ClickEvent& event) {
  if (fields.type != Reply::Type::Array) return false;
  bool has_time = false;
  event.code.clear();
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
  return has_time && !event.code.empty();
}

std::vector<Entry> decode_entries(const Reply& entries, Stream stream) {
  std::vector<Entry> decoded;
  if (entries.type != Reply::Type::Array) return decoded;
  decoded.reserve(entries.elements.size());
  for (const auto& element : entries.elements) {
    if (element.type != Reply::Type::Array || element.elements.size() != 2) continue;
    Entry entry;
    entry.stream = stream;
    entry.id = element.elements[0].str;
    const Reply& fields = element.elements[1];
    if (fields.type != Reply::Type::Array) {
      entry.kind = Entry::Kind::Malformed;  // deleted (nil): acknowledge it
    } else if (stream == Stream::V2) {
      decode_v2(fields, entry);
    } else {
      decode_legacy(fields, entry);
    }
    decoded.push_back(std::move(entry));
  }
  return decoded;
}

}  // namespace kurz::clickstream
