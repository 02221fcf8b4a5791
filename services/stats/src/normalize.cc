#include "kurz/stats/normalize.h"

#include "kurz/common/utf8.h"

namespace kurz::stats {
namespace {

constexpr std::size_t kMaxHostBytes = 253;  // the DNS limit

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_scheme(std::string_view s) {
  if (s.empty() || !is_alpha(s[0])) return false;
  for (const char c : s) {
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}

bool is_host_char(char c, bool ipv6) {
  if (ipv6) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
  }
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

}  // namespace

std::string normalize_referrer(std::string_view referrer) {
  if (referrer.empty()) return std::string(kDirect);
  const auto separator = referrer.find("://");
  if (separator == std::string_view::npos || !is_scheme(referrer.substr(0, separator))) {
    return std::string(kOther);
  }
  std::string_view authority = referrer.substr(separator + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }

  std::string_view host;
  const bool ipv6 = !authority.empty() && authority.front() == '[';
  if (ipv6) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos || close < 2) return std::string(kOther);
    host = authority.substr(1, close - 1);
  } else {
    host = authority.substr(0, authority.find(':'));
    while (!host.empty() && host.back() == '.') host.remove_suffix(1);
  }
  if (host.empty() || host.size() > kMaxHostBytes) return std::string(kOther);

  std::string out;
  out.reserve(host.size() + 2);
  if (ipv6) out.push_back('[');
  for (const char c : host) {
    if (!is_host_char(c, ipv6)) return std::string(kOther);
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  if (ipv6) out.push_back(']');
  if (!common::is_valid_utf8(out)) return std::string(kOther);
  return out;
}

std::string normalize_user_agent(std::string_view user_agent) {
  if (user_agent.empty()) return std::string(kUnknown);
  return common::sanitize_utf8(user_agent, kMaxUserAgentName);
}

}  // namespace kurz::stats
