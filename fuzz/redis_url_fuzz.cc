// REDIS_URL parsing: an accepted URL has a host (without user info), a port, a db >= 0, and its
// redacted form (for logs) is host:port/db, so it never shows the password. A redis+sentinel://
// URL has 1 to 16 sentinels, each with a host and a port, a valid master name, and its redacted
// form is sentinel:<master>@<host:port,...>/db.
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
  if (!u.sentinels.empty()) {
    kurz::fuzz::require(u.sentinels.size() <= 16 && u.db >= 0, "sentinels, db");
    kurz::fuzz::require(kurz::redis::valid_master_name(u.master_name), "master name");
    std::string redacted = "sentinel:" + u.master_name + "@";
    for (std::size_t i = 0; i < u.sentinels.size(); ++i) {
      const auto& s = u.sentinels[i];
      kurz::fuzz::require(!s.host.empty() && s.port != 0, "sentinel host and port");
      kurz::fuzz::require(s.host.find('@') == std::string::npos, "no user info in a sentinel");
      redacted += (i ? "," : "") + s.to_string();
    }
    kurz::fuzz::require(u.redacted() == redacted + "/" + std::to_string(u.db),
                        "redacted is sentinel:master@sentinels/db");
    return 0;
  }
  kurz::fuzz::require(!u.host.empty() && u.port != 0 && u.db >= 0, "host, port, db");
  // The redacted form is host:port/db: no user info, so never the password.
  kurz::fuzz::require(
      u.redacted() == u.host + ":" + std::to_string(u.port) + "/" + std::to_string(u.db),
      "redacted is host:port/db");
  kurz::fuzz::require(u.host.find('@') == std::string::npos, "no user info in the host");
  return 0;
}
