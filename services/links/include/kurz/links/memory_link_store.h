#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <shared_mutex>
#include <string_view>
#include <unordered_map>

#include "kurz/links/link_store.h"

namespace kurz::links {

// LinkStore in process memory (stage 1: state dies with the process and is not shared between
// instances). Thread-safe: a shared_mutex lets lookups, the hot path, run in parallel; writes
// take it exclusively. find is O(1), insert/remove O(log n), list O(log n + limit).
class MemoryLinkStore final : public LinkStore {
 public:
  MemoryLinkStore() = default;
  MemoryLinkStore(const MemoryLinkStore&) = delete;
  MemoryLinkStore& operator=(const MemoryLinkStore&) = delete;

  common::Result<std::uint64_t> next_id() override;
  common::Result<bool> insert(const Link& link) override;
  common::Result<std::optional<Link>> find(std::string_view code) const override;
  common::Result<bool> remove(std::string_view code) override;
  common::Result<LinkPage> list(const ListQuery& query) const override;

 private:
  using Sequence = std::uint64_t;

  std::atomic<std::uint64_t> last_id_{0};
  mutable std::shared_mutex mutex_;
  Sequence last_sequence_ = 0;
  // Newest first. Map nodes never move, so by_code_ keys view the codes stored here.
  std::map<Sequence, Link, std::greater<>> by_sequence_;
  std::unordered_map<std::string_view, Sequence> by_code_;
};

}  // namespace kurz::links
