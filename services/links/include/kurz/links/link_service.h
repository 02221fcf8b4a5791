#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "kurz/common/clock.h"
#include "kurz/common/error.h"
#include "kurz/links/link_store.h"

namespace kurz::links {

struct CreateLink {
  std::string url;
  std::optional<std::string> slug;      // a custom code; nullopt: generate one
  std::optional<TimePoint> expires_at;  // nullopt: never expires
};

inline constexpr std::size_t kMaxListLimit = 100;

// The links use cases, independent of any transport. Thread-safe when the store is (it keeps no
// state of its own). Every failure is an Error value; nothing throws on bad input.
class LinkService {
 public:
  LinkService(LinkStore& store, const common::Clock& clock) : store_(store), clock_(clock) {}

  // Validates and stores a new link; created_at is "now" truncated to milliseconds (what the API
  // shows). Errors: invalid_url, invalid_slug, slug_reserved, invalid_expiry (not in the future,
  // or more than 100 years ahead) — all Invalid; slug_taken (Conflict); code_generation_failed
  // (Unavailable, when no free generated code was found in a few attempts; retrying is safe).
  common::Result<Link> create(const CreateLink& request);

  // The link, expired or not (this is the management view). NotFound ("not_found") when missing,
  // including for codes that cannot exist (wrong alphabet, too long).
  common::Result<Link> get(std::string_view code) const;

  // A page of links, newest first. limit must be 1..kMaxListLimit, else Invalid
  // "invalid_parameter"; a malformed cursor gives Invalid "invalid_cursor".
  common::Result<LinkPage> list(const ListQuery& query) const;

  // Deletes a link. NotFound when there is none.
  common::Result<void> remove(std::string_view code);

  // The service's clock: what "expired" is measured against.
  const common::Clock& clock() const { return clock_; }

 private:
  common::Result<Link> create_generated(Link link);

  LinkStore& store_;
  const common::Clock& clock_;
};

}  // namespace kurz::links
