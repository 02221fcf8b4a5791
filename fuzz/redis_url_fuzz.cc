// REDIS_URL parsing: an accepted URL has a host (without user info), a port, a db >= 0, and its
// redacted form (for logs) is host:port/db, so it never shows the password.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "kurz/redis/url.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto url = kurz::redis::parse_url(text);
  if (!url.ok()) {
    kurz::fuzz::require(!url.error().message.empty(), "an error says why");
    return 0;
  }
  const auto& u = url.value();
  kurz::fuzz::require(!u.host.empty() && u.port != 0 && u.db >= 0, "host, port, db");
  // The redacted form is host:port/db: no user info, so never the password.
  kurz::fuzz::require(
      u.redacted() == u.host + ":" + std::to_string(u.port) + "/" + std::to_string(u.db),
      "redacted is host:port/db");
  kurz::fuzz::require(u.host.find('@') == std::string::npos, "no user info in the host");
  return 0;
}
