#include "kurz/links/memory_link_store.h"

#include <algorithm>
#include <iterator>
#include <mutex>
#include <string>

#include "kurz/links/url.h"

namespace kurz::links {
namespace {

// Cursors are the decimal sequence number of the last link on the previous page.
std::optional<std::uint64_t> parse_cursor(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

}  // namespace

common::Result<std::uint64_t> MemoryLinkStore::next_id() { return last_id_.fetch_add(1) + 1; }

common::Result<bool> MemoryLinkStore::insert(const Link& link) {
  std::unique_lock lock(mutex_);
  if (by_code_.count(link.code) != 0) return false;
  const Sequence sequence = ++last_sequence_;
  const auto node = by_sequence_.emplace(sequence, link).first;
  prepare_target(node->second);  // checked and encoded once, not on every redirect
  by_code_.emplace(node->second.code, sequence);
  return true;
}

common::Result<std::optional<Link>> MemoryLinkStore::find(std::string_view code) const {
  std::shared_lock lock(mutex_);
  const auto it = by_code_.find(code);
  if (it == by_code_.end()) return std::optional<Link>();
  return std::optional<Link>(by_sequence_.at(it->second));
}

common::Result<bool> MemoryLinkStore::remove(std::string_view code) {
  std::unique_lock lock(mutex_);
  const auto it = by_code_.find(code);
  if (it == by_code_.end()) return false;
  const Sequence sequence = it->second;
  by_code_.erase(it);  // first: its key views the code owned by the by_sequence_ node
  by_sequence_.erase(sequence);
  return true;
}

common::Result<LinkPage> MemoryLinkStore::list(const ListQuery& query) const {
  std::optional<Sequence> after;
  if (query.cursor) {
    after = parse_cursor(*query.cursor);
    if (!after) {
      return common::Error{common::ErrorKind::Invalid, "invalid_cursor",
                           "the pagination cursor is not valid"};
    }
  }
  LinkPage page;
  std::shared_lock lock(mutex_);
  auto it = after ? by_sequence_.upper_bound(*after) : by_sequence_.begin();
  page.items.reserve(std::min(query.limit, by_sequence_.size()));
  for (; it != by_sequence_.end() && page.items.size() < query.limit; ++it) {
    page.items.push_back(it->second);
  }
  if (it != by_sequence_.end() && !page.items.empty()) {
    page.next_cursor = std::to_string(std::prev(it)->first);
  }
  return page;
}

}  // namespace kurz::links
