#include "kurz/links/redis/redis_link_store.h"

#include <charconv>

namespace kurz::links::redis {
namespace {

using common::Error;
using common::ErrorKind;
using kurz::redis::Reply;

const char* const kNextId = "kurz:links:next_id";
const char* const kSeq = "kurz:links:seq";
const char* const kRecent = "kurz:links:recent";

std::string link_key(std::string_view code) { return "kurz:link:" + std::string(code); }

const kurz::redis::Script kInsert(R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local seq = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'url', ARGV[2], 'created', ARGV[3], 'seq', seq)
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'expires', ARGV[4]) end
redis.call('ZADD', KEYS[3], seq, ARGV[1])
return seq
)lua");

const kurz::redis::Script kRemove(R"lua(
local removed = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return removed
)lua");

std::string millis(common::TimePoint at) {
  return std::to_string(
      std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count());
}

bool parse_integer(std::string_view text, long long& out) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
}

common::TimePoint from_millis(long long ms) {
  return common::TimePoint(
      std::chrono::duration_cast<common::TimePoint::duration>(std::chrono::milliseconds(ms)));
}

Error corrupt(std::string_view code) {
  return Error{ErrorKind::Internal, "internal",
               "stored link '" + std::string(code) + "' is malformed"};
}

Error unexpected(const Reply& reply) {
  return Error{ErrorKind::Unavailable, "unavailable",
               reply.is_error() ? "the data store refused the request"
                                : "the data store gave an unexpected answer"};
}

// A link from HMGET url created expires; nullopt when the hash does not exist.
common::Result<std::optional<Link>> decode(std::string_view code, const Reply& reply) {
  if (reply.type != Reply::Type::Array || reply.elements.size() != 3) return unexpected(reply);
  const auto& fields = reply.elements;
  if (fields[0].is_nil()) return std::optional<Link>();
  long long created = 0;
  if (!parse_integer(fields[1].str, created)) return corrupt(code);
  Link link{std::string(code), fields[0].str, from_millis(created), std::nullopt};
  if (!fields[2].is_nil()) {
    long long expires = 0;
    if (!parse_integer(fields[2].str, expires)) return corrupt(code);
    link.expires_at = from_millis(expires);
  }
  return std::optional<Link>(std::move(link));
}

kurz::redis::Command hmget(std::string_view code) {
  return {"HMGET", link_key(code), "url", "created", "expires"};
}

}  // namespace

common::Result<std::uint64_t> RedisLinkStore::next_id() {
  const auto reply = client_.command({"INCR", kNextId});
  if (!reply.ok()) return reply.error();
  if (reply.value().type != Reply::Type::Integer) return unexpected(reply.value());
  return static_cast<std::uint64_t>(reply.value().integer);
}

common::Result<bool> RedisLinkStore::insert(const Link& link) {
  // Acknowledged means kept: the reply comes once a replica has the link (WAIT, when the
  // primary has replicas); else Unavailable "not_replicated" (the link may exist; see README).
  const auto reply = client_.eval_replicated(kInsert, {link_key(link.code), kSeq, kRecent},
                                             {link.code, link.url, millis(link.created_at),
                                              link.expires_at ? millis(*link.expires_at) : ""});
  if (!reply.ok()) return reply.error();
  if (reply.value().type != Reply::Type::Integer) return unexpected(reply.value());
  return reply.value().integer != 0;
}

common::Result<std::optional<Link>> RedisLinkStore::find(std::string_view code) const {
  const auto reply = client_.command(hmget(code));
  if (!reply.ok()) return reply.error();
  return decode(code, reply.value());
}

common::Result<bool> RedisLinkStore::remove(std::string_view code) {
  const auto reply = client_.eval(kRemove, {link_key(code), kRecent}, {std::string(code)});
  if (!reply.ok()) return reply.error();
  if (reply.value().type != Reply::Type::Integer) return unexpected(reply.value());
  return reply.value().integer != 0;
}

common::Result<LinkPage> RedisLinkStore::list(const ListQuery& query) const {
  LinkPage page;
  if (query.limit == 0) return page;
  std::string max = "+inf";
  if (query.cursor) {
    long long sequence = 0;
    if (!parse_integer(*query.cursor, sequence) || sequence < 1) {
      return Error{ErrorKind::Invalid, "invalid_cursor",
                   "cursor must be a value from a previous page's nextCursor"};
    }
    max = "(" + *query.cursor;
  }
  // One more than asked tells whether there is a next page.
  const auto index = client_.command({"ZREVRANGEBYSCORE", kRecent, max, "-inf", "WITHSCORES",
                                      "LIMIT", "0", std::to_string(query.limit + 1)});
  if (!index.ok()) return index.error();
  if (index.value().type != Reply::Type::Array) return unexpected(index.value());
  const auto& entries = index.value().elements;
  const std::size_t count = std::min(entries.size() / 2, query.limit);
  std::vector<kurz::redis::Command> reads;
  for (std::size_t i = 0; i < count; ++i) reads.push_back(hmget(entries[2 * i].str));
  const auto links = client_.pipeline(reads);
  if (!links.ok()) return links.error();
  for (std::size_t i = 0; i < count; ++i) {
    auto link = decode(entries[2 * i].str, links.value()[i]);
    if (!link.ok()) return link.error();
    // Deleted between the two reads: simply not listed.
    if (link.value()) page.items.push_back(std::move(*link.value()));
  }
  if (entries.size() / 2 > query.limit) page.next_cursor = entries[2 * count - 1].str;
  return page;
}

}  // namespace kurz::links::redis
