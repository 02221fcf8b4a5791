#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kurz/common/error.h"
#include "kurz/links/link.h"

namespace kurz::links {

// The read side of link storage: all the redirect path and the stats service need.
// Implementations must be thread-safe. Every operation of a store may fail with an Unavailable
// error (a store over the network is unreachable); the in-memory store never fails.
class LinkReader {
 public:
  virtual ~LinkReader() = default;
  // The link stored under `code` (exact, case-sensitive match), expired or not; nullopt if none.
  virtual common::Result<std::optional<Link>> find(std::string_view code) const = 0;
};

struct ListQuery {
  std::optional<std::string> cursor;  // from a previous LinkPage::next_cursor; nullopt: newest
  std::size_t limit = 20;
};

struct LinkPage {
  std::vector<Link> items;                 // most recently created first
  std::optional<std::string> next_cursor;  // nullopt: this is the last page
};

// Link storage (process memory now, Redis later: a counter, a hash per link, a sorted set by
// insertion sequence). Implementations must be thread-safe; every operation is atomic.
class LinkStore : public LinkReader {
 public:
  // A fresh id, never returned before by this store (across instances sharing the storage).
  virtual common::Result<std::uint64_t> next_id() = 0;

  // Stores `link` unless its code is taken: an atomic claim. False when the code exists.
  virtual common::Result<bool> insert(const Link& link) = 0;

  // Deletes the link under `code`; false when there was none. Deleted links leave every listing.
  virtual common::Result<bool> remove(std::string_view code) = 0;

  // Up to `query.limit` links, most recently inserted first, starting after `query.cursor`.
  // Cursors are opaque strings; they stay valid when links are added or deleted meanwhile, and a
  // walk over all pages returns every link that existed throughout exactly once. A malformed
  // cursor gives an Invalid error with code "invalid_cursor". `limit` is taken as
  // given (0 gives an empty page); callers validate it.
  virtual common::Result<LinkPage> list(const ListQuery& query) const = 0;
};

}  // namespace kurz::links
