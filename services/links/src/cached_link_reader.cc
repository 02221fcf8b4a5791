#include "kurz/links/cached_link_reader.h"

#include "kurz/links/url.h"

namespace kurz::links {

CachedLinkReader::CachedLinkReader(const LinkReader& store, const common::Clock& clock,
                                   std::chrono::milliseconds ttl, std::size_t capacity)
    : store_(store), clock_(clock), ttl_(ttl), capacity_(capacity == 0 ? 1 : capacity) {}

common::Result<std::optional<Link>> CachedLinkReader::find(std::string_view code) const {
  const auto now = clock_.now();
  const std::string key(code);
  std::optional<Link> stale;
  {
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(key);
    if (it != entries_.end()) {
      if (now - it->second.fetched < ttl_) {
        ++hits_;
        return std::optional<Link>(it->second.link);
      }
      stale = it->second.link;
    }
    ++misses_;
  }
  auto found = store_.find(code);
  std::lock_guard lock(mutex_);
  if (!found.ok()) {
    if (!stale) return found;
    ++stale_served_;
    return std::optional<Link>(std::move(*stale));
  }
  if (!found.value()) {
    entries_.erase(key);  // deleted: forget it here too
    return found;
  }
  // The target is checked and encoded once, as the link enters the cache, not on every hit.
  auto& link = *found.value();
  if (!link.target_valid) prepare_target(link);
  if (entries_.size() >= capacity_ && entries_.count(key) == 0) {
    entries_.erase(entries_.begin());  // bounded: drop some other entry
  }
  entries_.insert_or_assign(key, Entry{link, now});
  return found;
}

std::uint64_t CachedLinkReader::hits() const {
  std::lock_guard lock(mutex_);
  return hits_;
}

std::uint64_t CachedLinkReader::misses() const {
  std::lock_guard lock(mutex_);
  return misses_;
}

std::uint64_t CachedLinkReader::stale_served() const {
  std::lock_guard lock(mutex_);
  return stale_served_;
}

}  // namespace kurz::links
