#include "kurz/stats/redis/redis_stats_store.h"

#include <algorithm>
#include <cstdlib>

#include "kurz/common/time.h"
#include "kurz/redis/client.h"
#include "kurz/stats/redis/click_apply.h"
#include "kurz/stats/redis/keys.h"

namespace kurz::stats::redis {
namespace {

using kurz::redis::Reply;

common::Error unexpected(const Reply& reply) {
  return common::Error{common::ErrorKind::Internal, "unexpected_reply",
                       "unexpected reply from the stats store: " + reply.str};
}

std::uint64_t to_count(const std::string& text) {
  return static_cast<std::uint64_t>(std::strtod(text.c_str(), nullptr));
}

// [member, score, member, score, ...] (ZRANGE WITHSCORES) as NamedCounts.
std::vector<NamedCount> named_counts(const Reply& pairs) {
  std::vector<NamedCount> counts;
  counts.reserve(pairs.elements.size() / 2);
  for (std::size_t i = 0; i + 1 < pairs.elements.size(); i += 2) {
    counts.push_back({pairs.elements[i].str, to_count(pairs.elements[i + 1].str)});
  }
  return counts;
}

}  // namespace

common::Result<void> RedisStatsStore::apply(const common::ClickEvent& event) {
  return apply_event(client_, event);
}

common::Result<std::optional<LinkStats>> RedisStatsStore::link_stats(std::string_view code,
                                                                     std::size_t top_n) const {
  const std::string base = link_key(code);
  // MULTI/EXEC: one consistent snapshot, in one round trip.
  const auto replies = client_.pipeline({{"MULTI"},
                                         {"HGET", base, "total"},
                                         {"HGETALL", base + ":days"},
                                         {"ZRANGE", base + ":ref", "0", "-1", "WITHSCORES"},
                                         {"ZRANGE", base + ":ua", "0", "-1", "WITHSCORES"},
                                         {"EXEC"}});
  if (!replies.ok()) return replies.error();
  const Reply& exec = replies.value().back();
  if (exec.type != Reply::Type::Array || exec.elements.size() != 4) return unexpected(exec);
  const Reply& total = exec.elements[0];
  if (total.is_nil()) return std::optional<LinkStats>();
  if (total.type != Reply::Type::String) return unexpected(total);

  LinkStats stats{std::string(code), to_count(total.str), {}, {}, {}};
  std::vector<std::pair<std::int64_t, std::uint64_t>> days;
  const Reply& day_fields = exec.elements[1];
  for (std::size_t i = 0; i + 1 < day_fields.elements.size(); i += 2) {
    days.emplace_back(std::strtoll(day_fields.elements[i].str.c_str(), nullptr, 10),
                      to_count(day_fields.elements[i + 1].str));
  }
  std::sort(days.begin(), days.end());
  stats.days.reserve(days.size());
  for (const auto& [day, clicks] : days) {
    stats.days.push_back({common::format_day_number(day), clicks});
  }
  stats.referrers = top_names(named_counts(exec.elements[2]), top_n);
  stats.user_agents = top_names(named_counts(exec.elements[3]), top_n);
  return std::optional<LinkStats>(std::move(stats));
}

common::Result<std::vector<TopLink>> RedisStatsStore::top_links(std::size_t limit) const {
  if (limit == 0) return std::vector<TopLink>();
  const std::string key(kTopKey);
  // The best `limit` by score; Redis orders ties by code descending there, so the codes tied at
  // the lowest score shown are fetched again in ascending order (ZRANGEBYSCORE orders ties so).
  const auto best =
      client_.command({"ZREVRANGE", key, "0", std::to_string(limit - 1), "WITHSCORES"});
  if (!best.ok()) return best.error();
  if (best.value().type != Reply::Type::Array) return unexpected(best.value());
  auto counts = named_counts(best.value());
  if (counts.empty()) return std::vector<TopLink>();
  const std::uint64_t lowest = counts.back().clicks;
  counts.erase(std::remove_if(counts.begin(), counts.end(),
                              [&](const NamedCount& c) { return c.clicks == lowest; }),
               counts.end());
  // The size is read before the call: the order in which arguments are evaluated is unspecified.
  const auto untied = counts.size();
  counts = top_names(std::move(counts), untied);
  const std::string score = std::to_string(lowest);
  const auto tied = client_.command(
      {"ZRANGEBYSCORE", key, score, score, "LIMIT", "0", std::to_string(limit - counts.size())});
  if (!tied.ok()) return tied.error();
  if (tied.value().type != Reply::Type::Array) return unexpected(tied.value());
  std::vector<TopLink> top;
  top.reserve(limit);
  for (const auto& c : counts) top.push_back({c.name, c.clicks});
  for (const auto& code : tied.value().elements) top.push_back({code.str, lowest});
  return top;
}

}  // namespace kurz::stats::redis
