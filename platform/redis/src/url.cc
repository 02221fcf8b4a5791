#include "kurz/redis/url.h"

#include <cctype>
#include <charconv>

namespace kurz::redis {
namespace {

common::Error invalid(const std::string& why) {
  return common::Error{common::ErrorKind::Invalid, "invalid_redis_url",
                       "REDIS_URL must look like redis://[:password@]host[:port][/db]: " + why};
}

bool decode(std::string_view in, std::string& out) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int value = 0;
    const auto [ptr, ec] = std::from_chars(in.data() + i + 1, in.data() + i + 3, value, 16);
    if (ec != std::errc() || ptr != in.data() + i + 3) return false;
    out.push_back(static_cast<char>(value));
    i += 2;
  }
  return true;
}

template <class T>
bool parse_number(std::string_view text, T& out, T min, T max) {
  T value{};
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value < min ||
      value > max) {
    return false;
  }
  out = value;
  return true;
}

}  // namespace

std::string Url::redacted() const {
  return host + ":" + std::to_string(port) + "/" + std::to_string(db);
}

common::Result<Url> parse_url(std::string_view text) {
  constexpr std::string_view kScheme = "redis://";
  if (text.substr(0, kScheme.size()) != kScheme) return invalid("the scheme must be redis://");
  text.remove_prefix(kScheme.size());
  Url url;
  const auto at = text.rfind('@');
  if (at != std::string_view::npos) {
    const auto userinfo = text.substr(0, at);
    if (userinfo.empty() || userinfo.front() != ':') {
      return invalid("give only a password, as redis://:password@host (no user name)");
    }
    if (!decode(userinfo.substr(1), url.password)) return invalid("bad %-escape in the password");
    text.remove_prefix(at + 1);
  }
  const auto slash = text.find('/');
  auto authority = text.substr(0, slash);
  if (slash != std::string_view::npos) {
    const auto db = text.substr(slash + 1);
    if (!db.empty() && !parse_number(db, url.db, 0, 1 << 20)) {
      return invalid("the database must be a number");
    }
  }
  std::string_view host = authority;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return invalid("unclosed IPv6 bracket");
    host = authority.substr(1, close - 1);
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority.front() != ':') return invalid("junk after the host");
  } else {
    const auto colon = authority.find(':');
    host = authority.substr(0, colon);
    authority = colon == std::string_view::npos ? std::string_view{} : authority.substr(colon);
  }
  if (!authority.empty()) {
    if (!parse_number<std::uint16_t>(authority.substr(1), url.port, 1, 65535)) {
      return invalid("the port must be a number from 1 to 65535");
    }
  }
  if (host.empty()) return invalid("the host is missing");
  for (const char c : host) {
    const bool ok =
        std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == ':';
    if (!ok) return invalid("the host has a character that no host name has");
  }
  url.host = std::string(host);
  return url;
}

}  // namespace kurz::redis
