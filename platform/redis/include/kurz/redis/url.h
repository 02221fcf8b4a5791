#pragma once
// REDIS_URL: redis://[:password@]host[:port][/db], or, to find the primary through Redis Sentinel,
// redis+sentinel://[:password@]host:port[,host:port...][/master name[/db]] (the hosts are the
// sentinels; the password is the data nodes'). REDIS_SENTINELS=host:port,... gives the sentinels
// as a list (then REDIS_URL only supplies the password and db). Validated once at start-up.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kurz/common/error.h"

namespace kurz::redis {

struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
  std::string to_string() const;
};

struct Url {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string password;  // empty: no AUTH
  int db = 0;
  // Not empty: the primary is found through these sentinels, and host/port are unused.
  std::vector<Endpoint> sentinels;
  std::string master_name = "kurz";

  // host:port/db (or sentinel:name@host:port,.../db), without the password: safe for logs.
  std::string redacted() const;
};

// Parses a redis:// URL. A user name before the password ("redis://user:pw@host") is refused:
// Redis 6 ACL users are not supported. Percent-escapes in the password are decoded.
// redis+sentinel:// URLs are parsed too (sentinels, master name, db).
common::Result<Url> parse_url(std::string_view text);

// REDIS_SENTINELS: host:port[,host:port...] (IPv6 as [addr]:port); each port from 1 to 65535, at
// most 16 sentinels, no empty element.
common::Result<std::vector<Endpoint>> parse_sentinels(std::string_view text);

// REDIS_MASTER_NAME: what Sentinel calls the primary; 1 to 64 of [A-Za-z0-9._-].
bool valid_master_name(std::string_view name);

}  // namespace kurz::redis
