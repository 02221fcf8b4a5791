#include "kurz/links/slug.h"

#include <string>

namespace kurz::links {
namespace {

using common::Error;
using common::ErrorKind;

// Everything the application serves at the top level, plus names kept free for the future.
// Lower case; entries with a '.' cannot be slugs anyway but document what is served.
constexpr std::string_view kReserved[] = {
    "about",
    "admin",
    "api",
    "app",
    "assets",
    "css",
    "dashboard",
    "debug",
    "docs",
    "favicon",
    "favicon.ico",
    "fonts",
    "health",
    "healthz",
    "help",
    "images",
    "img",
    "index",
    "index.html",
    "info",
    "internal",
    "js",
    "links",
    "live",
    "livez",
    "login",
    "logout",
    "manifest.json",
    "metrics",
    "new",
    "openapi",
    "openapi.json",
    "openapi.yaml",
    "qr",
    "ready",
    "readyz",
    "robots.txt",
    "settings",
    "signin",
    "signup",
    "static",
    "stats",
    "status",
    "ui",
    "web",
    "well-known",
    "www",
    // Would be shadowed by a literal route under a prefix: /api/stats/top.
    "top",
};

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool has_valid_alphabet(std::string_view s) {
  for (const char c : s) {
    if (!is_alnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

}  // namespace

bool is_well_formed_code(std::string_view code) {
  return code.size() >= kMinSlugLength && code.size() <= kMaxSlugLength && is_alnum(code[0]) &&
         has_valid_alphabet(code);
}

bool is_reserved(std::string_view word) {
  for (const std::string_view reserved : kReserved) {
    if (reserved.size() != word.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < word.size() && same; ++i) same = lower(word[i]) == reserved[i];
    if (same) return true;
  }
  return false;
}

std::optional<Error> validate_slug(std::string_view slug) {
  if (slug.size() < kMinSlugLength || slug.size() > kMaxSlugLength) {
    return Error{ErrorKind::Invalid, "invalid_slug",
                 "a custom slug must be between 3 and 64 characters long"};
  }
  if (!has_valid_alphabet(slug)) {
    return Error{ErrorKind::Invalid, "invalid_slug",
                 "a custom slug may only contain letters, digits, '-' and '_' (letters are "
                 "case-sensitive: 'Mesos' and 'mesos' are two different links)"};
  }
  if (!is_alnum(slug[0])) {
    return Error{ErrorKind::Invalid, "invalid_slug",
                 "a custom slug must start with a letter or a digit"};
  }
  if (is_reserved(slug)) {
    return Error{ErrorKind::Invalid, "slug_reserved",
                 "'" + std::string(slug) +
                     "' is reserved and cannot be used as a custom slug (reserved words are "
                     "refused in any case)"};
  }
  return std::nullopt;
}

}  // namespace kurz::links
