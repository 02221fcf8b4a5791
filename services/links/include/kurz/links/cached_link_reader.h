#pragma once
// A per-instance cache in front of a LinkReader, for the redirect hot path. Links are immutable
// once created, so a cached copy is only stale when the link is deleted: a delete takes effect on
// every instance within `ttl` (the documented price of not asking Redis on every redirect).
// Expiry needs no invalidation: the cached link carries its expiry time. Only links that exist
// are cached, so a link created on another instance resolves at once. While the store is
// unavailable, cached links are still served (degraded mode), even past their TTL.
// Thread-safe; bounded to `capacity` entries.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "kurz/common/clock.h"
#include "kurz/links/link_store.h"

namespace kurz::links {

class CachedLinkReader final : public LinkReader {
 public:
  CachedLinkReader(const LinkReader& store, const common::Clock& clock,
                   std::chrono::milliseconds ttl, std::size_t capacity);

  common::Result<std::optional<Link>> find(std::string_view code) const override;

  std::uint64_t hits() const;
  std::uint64_t misses() const;
  std::uint64_t stale_served() const;  // answers from the cache while the store was unavailable

 private:
  struct Entry {
    Link link;
    common::TimePoint fetched;
  };
  const LinkReader& store_;
  const common::Clock& clock_;
  std::chrono::milliseconds ttl_;
  std::size_t capacity_;
  mutable std::mutex mutex_;
  mutable std::unordered_map<std::string, Entry> entries_;
  mutable std::uint64_t hits_ = 0;
  mutable std::uint64_t misses_ = 0;
  mutable std::uint64_t stale_served_ = 0;
};

}  // namespace kurz::links
