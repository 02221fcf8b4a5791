#include "kurz/redis/url.h"

#include <cctype>
#include <charconv>

namespace kurz::redis {
namespace {

common::Error invalid(const std::string& why) {
  return common::Error{common::ErrorKind::Invalid, "invalid_redis_url",
                       "REDIS_URL must look like redis://[:password@]host[:port][/db] or "
                       "redis+sentinel://[:password@]host:port[,host:port...][/master[/db]]: " +
                           why};
}

common::Error invalid_sentinels(const std::string& why) {
  return common::Error{common::ErrorKind::Invalid, "invalid_redis_sentinels",
                       "REDIS_SENTINELS must look like host:port[,host:port...]: " + why};
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

// host[:port] or [v6]:port into `out`; an empty string when it is fine, else why not.
std::string parse_endpoint(std::string_view authority, bool port_required, Endpoint& out) {
  std::string_view host = authority;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return "unclosed IPv6 bracket";
    host = authority.substr(1, close - 1);
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority.front() != ':') return "junk after the host";
  } else {
    const auto colon = authority.find(':');
    host = authority.substr(0, colon);
    authority = colon == std::string_view::npos ? std::string_view{} : authority.substr(colon);
  }
  if (!authority.empty()) {
    if (!parse_number<std::uint16_t>(authority.substr(1), out.port, 1, 65535)) {
      return "the port must be a number from 1 to 65535";
    }
  } else if (port_required) {
    return "each sentinel needs its port (host:port)";
  }
  if (host.empty()) return "the host is missing";
  for (const char c : host) {
    const bool ok =
        std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == ':';
    if (!ok) return "the host has a character that no host name has";
  }
  out.host = std::string(host);
  return {};
}

constexpr std::size_t kMaxSentinels = 16;

std::string parse_endpoints(std::string_view text, std::vector<Endpoint>& out) {
  if (text.empty()) return "no sentinel given";
  while (true) {
    const auto comma = text.find(',');
    const auto item = text.substr(0, comma);
    Endpoint endpoint;
    if (item.empty()) return "an empty element (two commas, or one at an end)";
    if (auto why = parse_endpoint(item, true, endpoint); !why.empty()) {
      return "'" + std::string(item) + "': " + why;
    }
    if (out.size() == kMaxSentinels) return "more than 16 sentinels";
    out.push_back(std::move(endpoint));
    if (comma == std::string_view::npos) return {};
    text.remove_prefix(comma + 1);
  }
}

}  // namespace

std::string Endpoint::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string Url::redacted() const {
  if (sentinels.empty()) return host + ":" + std::to_string(port) + "/" + std::to_string(db);
  std::string out = "sentinel:" + master_name + "@";
  for (std::size_t i = 0; i < sentinels.size(); ++i) {
    if (i != 0) out += ",";
    out += sentinels[i].to_string();
  }
  return out + "/" + std::to_string(db);
}

bool valid_master_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (const char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

common::Result<std::vector<Endpoint>> parse_sentinels(std::string_view text) {
  std::vector<Endpoint> sentinels;
  if (auto why = parse_endpoints(text, sentinels); !why.empty()) return invalid_sentinels(why);
  return sentinels;
}

common::Result<Url> parse_url(std::string_view text) {
  constexpr std::string_view kScheme = "redis://";
  constexpr std::string_view kSentinelScheme = "redis+sentinel://";
  const bool sentinel = text.substr(0, kSentinelScheme.size()) == kSentinelScheme;
  if (!sentinel && text.substr(0, kScheme.size()) != kScheme) {
    return invalid("the scheme must be redis:// or redis+sentinel://");
  }
  text.remove_prefix(sentinel ? kSentinelScheme.size() : kScheme.size());
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
  auto path = slash == std::string_view::npos ? std::string_view{} : text.substr(slash + 1);
  if (sentinel) {
    if (auto why = parse_endpoints(authority, url.sentinels); !why.empty()) return invalid(why);
    const auto next = path.find('/');
    const auto name = path.substr(0, next);
    if (!name.empty()) {
      if (!valid_master_name(name)) {
        return invalid("the master name must be 1 to 64 of letters, digits, '.', '_' and '-'");
      }
      url.master_name = std::string(name);
    }
    path = next == std::string_view::npos ? std::string_view{} : path.substr(next + 1);
  }
  if (!path.empty() && !parse_number(path, url.db, 0, 1 << 20)) {
    return invalid("the database must be a number");
  }
  if (sentinel) return url;
  Endpoint endpoint{url.host, url.port};
  if (auto why = parse_endpoint(authority, false, endpoint); !why.empty()) return invalid(why);
  url.host = std::move(endpoint.host);
  url.port = endpoint.port;
  return url;
}

}  // namespace kurz::redis
