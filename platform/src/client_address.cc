#include "kurz/platform/client_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace kurz::platform {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Parses an IPv4 or IPv6 address into 16 bytes; returns its family or 0.
int parse_address(std::string_view text, unsigned char (&bytes)[16]) {
  std::string address(text);
  if (address.rfind("::ffff:", 0) == 0 && address.find('.') != std::string::npos) {
    address.erase(0, 7);  // an IPv4 peer seen through an IPv6 socket
  }
  std::memset(bytes, 0, sizeof(bytes));
  if (inet_pton(AF_INET, address.c_str(), bytes) == 1) return AF_INET;
  if (inet_pton(AF_INET6, address.c_str(), bytes) == 1) return AF_INET6;
  return 0;
}

}  // namespace

std::optional<TrustedProxies> TrustedProxies::parse(std::string_view list) {
  TrustedProxies proxies;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto entry = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (entry.empty()) continue;
    Range range{};
    const auto slash = entry.find('/');
    range.family = parse_address(entry.substr(0, slash), range.bytes);
    if (range.family == 0) return std::nullopt;
    const int max = range.family == AF_INET ? 32 : 128;
    range.prefix = max;
    if (slash != std::string_view::npos) {
      const auto bits = entry.substr(slash + 1);
      const auto [ptr, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), range.prefix);
      if (bits.empty() || ec != std::errc() || ptr != bits.data() + bits.size() ||
          range.prefix < 0 || range.prefix > max) {
        return std::nullopt;
      }
    }
    proxies.ranges_.push_back(range);
  }
  return proxies;
}

bool TrustedProxies::contains(std::string_view address) const {
  unsigned char bytes[16];
  const int family = parse_address(trim(address), bytes);
  if (family == 0) return false;
  for (const auto& range : ranges_) {
    if (range.family != family) continue;
    const int full = range.prefix / 8;
    const int rest = range.prefix % 8;
    if (std::memcmp(bytes, range.bytes, static_cast<std::size_t>(full)) != 0) continue;
    if (rest != 0) {
      const auto mask = static_cast<unsigned char>(0xFF << (8 - rest));
      if ((bytes[full] & mask) != (range.bytes[full] & mask)) continue;
    }
    return true;
  }
  return false;
}

std::string TrustedProxies::client(std::string_view peer,
                                   const std::optional<std::string>& forwarded_for) const {
  if (!forwarded_for || !contains(peer)) return std::string(peer);
  std::string_view hops = *forwarded_for;
  std::string_view leftmost;
  while (!hops.empty()) {
    const auto comma = hops.rfind(',');
    const auto hop = trim(comma == std::string_view::npos ? hops : hops.substr(comma + 1));
    hops = comma == std::string_view::npos ? std::string_view{} : hops.substr(0, comma);
    unsigned char bytes[16];
    if (parse_address(hop, bytes) == 0) return std::string(peer);  // garbage: trust nothing
    if (!contains(hop)) return std::string(hop);
    leftmost = hop;
  }
  return leftmost.empty() ? std::string(peer) : std::string(leftmost);
}

}  // namespace kurz::platform
