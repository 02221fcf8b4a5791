#pragma once
// Who the client is, behind load balancers: the TCP peer, unless the peer is a trusted proxy, in
// which case X-Forwarded-For is read from the right, skipping trusted proxies, and the first
// address that is not one of them is the client. A client cannot forge its address by sending
// X-Forwarded-For itself: only what trusted proxies appended counts.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kurz::platform {

class TrustedProxies {
 public:
  // Parses a comma-separated list of addresses and CIDR ranges, IPv4 or IPv6
  // ("10.0.0.0/8, 172.16.0.0/12, ::1"). nullopt when an entry is malformed.
  static std::optional<TrustedProxies> parse(std::string_view list);

  bool empty() const { return ranges_.empty(); }
  bool contains(std::string_view address) const;

  // The client's address given the peer and the X-Forwarded-For header, if any.
  std::string client(std::string_view peer, const std::optional<std::string>& forwarded_for) const;

 private:
  struct Range {
    int family;
    unsigned char bytes[16];
    int prefix;
  };
  std::vector<Range> ranges_;
};

}  // namespace kurz::platform
