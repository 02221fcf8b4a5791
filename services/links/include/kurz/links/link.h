#pragma once

#include <optional>
#include <string>

#include "kurz/common/clock.h"

namespace kurz::links {

using common::TimePoint;

// A short link: `code` (generated or a custom slug) redirects to `url`. Links are immutable once
// created; they can only be deleted.
struct Link {
  std::string code;
  std::string url;
  TimePoint created_at;
  std::optional<TimePoint> expires_at;  // nullopt: never expires
  // Set by a reader that checked `url` (validate_url) when the link entered it: the memory store,
  // the cache. The redirect then serves it without checking again on every visit. Not part of
  // the link's identity.
  bool target_valid = false;
  // Set with target_valid (prepare_target): the target as a URI for Location when it differs from
  // `url` (non-ASCII, characters a URI cannot carry); empty when `url` is already one. Derived,
  // never stored; not part of the link's identity.
  std::string location = {};

  // True from the instant `expires_at` is reached (inclusive) onwards.
  bool expired_at(TimePoint now) const { return expires_at.has_value() && now >= *expires_at; }

  friend bool operator==(const Link& a, const Link& b) {
    return a.code == b.code && a.url == b.url && a.created_at == b.created_at &&
           a.expires_at == b.expires_at;
  }
  friend bool operator!=(const Link& a, const Link& b) { return !(a == b); }
};

}  // namespace kurz::links
