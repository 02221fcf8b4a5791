#include "kurz/links/link_service.h"

#include <chrono>

#include "kurz/links/code.h"
#include "kurz/links/slug.h"
#include "kurz/links/url.h"

namespace kurz::links {
namespace {

using common::Error;
using common::ErrorKind;

// Generated codes collide only with custom slugs and reserved words, both rare; a handful of
// attempts is plenty, and a bound keeps a misbehaving store from looping forever.
constexpr int kMaxGenerateAttempts = 8;
constexpr auto kMaxExpiry = std::chrono::hours(24 * 36525);  // 100 years

TimePoint to_millis(TimePoint t) {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(t);
}

Error not_found() {
  return Error{ErrorKind::NotFound, "not_found", "no short link exists with this code"};
}

}  // namespace

common::Result<Link> LinkService::create(const CreateLink& request) {
  if (auto error = validate_url(request.url)) return std::move(*error);
  const TimePoint now = to_millis(clock_.now());
  Link link{{}, request.url, now, std::nullopt};
  if (request.expires_at) {
    const TimePoint expires = to_millis(*request.expires_at);
    if (expires <= now) {
      return Error{ErrorKind::Invalid, "invalid_expiry", "the expiry time must be in the future"};
    }
    if (expires - now > kMaxExpiry) {
      return Error{ErrorKind::Invalid, "invalid_expiry",
                   "the expiry time must be at most 100 years ahead"};
    }
    link.expires_at = expires;
  }
  if (!request.slug) return create_generated(std::move(link));

  if (auto error = validate_slug(*request.slug)) return std::move(*error);
  link.code = *request.slug;
  const auto inserted = store_.insert(link);
  if (!inserted.ok()) return inserted.error();
  if (!inserted.value()) {
    return Error{ErrorKind::Conflict, "slug_taken",
                 "the short code '" + link.code +
                     "' is already taken (codes are case-sensitive: this exact spelling)"};
  }
  return link;
}

common::Result<Link> LinkService::create_generated(Link link) {
  for (int attempt = 0; attempt < kMaxGenerateAttempts; ++attempt) {
    const auto id = store_.next_id();
    if (!id.ok()) return id.error();
    link.code = encode_code(id.value());
    if (is_reserved(link.code)) continue;
    const auto inserted = store_.insert(link);
    if (!inserted.ok()) return inserted.error();
    if (inserted.value()) return link;
  }
  return Error{ErrorKind::Unavailable, "code_generation_failed",
               "no short code could be allocated; please try again"};
}

common::Result<Link> LinkService::get(std::string_view code) const {
  if (!is_well_formed_code(code)) return not_found();
  auto link = store_.find(code);
  if (!link.ok()) return link.error();
  if (link.value()) return std::move(*link.value());
  return not_found();
}

common::Result<LinkPage> LinkService::list(const ListQuery& query) const {
  if (query.limit < 1 || query.limit > kMaxListLimit) {
    return Error{ErrorKind::Invalid, "invalid_parameter",
                 "limit must be between 1 and " + std::to_string(kMaxListLimit)};
  }
  return store_.list(query);
}

common::Result<void> LinkService::remove(std::string_view code) {
  if (!is_well_formed_code(code)) return not_found();
  const auto removed = store_.remove(code);
  if (!removed.ok()) return removed.error();
  if (!removed.value()) return not_found();
  return {};
}

}  // namespace kurz::links
