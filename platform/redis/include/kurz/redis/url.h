#pragma once
// REDIS_URL: redis://[:password@]host[:port][/db], validated once at start-up.

#include <cstdint>
#include <string>
#include <string_view>

#include "kurz/common/error.h"

namespace kurz::redis {

struct Url {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string password;  // empty: no AUTH
  int db = 0;

  // host:port/db, without the password: safe for logs.
  std::string redacted() const;
};

// Parses a redis:// URL. A user name before the password ("redis://user:pw@host") is refused:
// Redis 6 ACL users are not supported. Percent-escapes in the password are decoded.
common::Result<Url> parse_url(std::string_view text);

}  // namespace kurz::redis
