// kurz-probe: a minimal HTTP/1.1 health probe for runtime images without curl or a shell.
//
// The library half of the program, kept apart from main() so that it can be unit-tested.
// Depends on nothing beyond libc and libstdc++.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kurz::health {

// A parsed `http://host[:port]/path` URL. Only plain HTTP is supported: a probe talks to its own
// container over loopback.
struct ProbeUrl {
  std::string host;         // IPv4 literal, name, or IPv6 literal without brackets
  std::uint16_t port = 80;  // 1..65535
  std::string path = "/";   // always starts with '/', may carry a query; never a fragment
};

// Parses `url`. Accepts `http://` (scheme case-insensitive), a host made of letters, digits, '-',
// '.', or a bracketed IPv6 literal, an optional decimal port and an optional path. Rejects user
// info, empty hosts, bad ports, other schemes, and any whitespace or control character. On
// failure returns nullopt and, if `error` is non-null, a one-line reason.
std::optional<ProbeUrl> parse_probe_url(std::string_view url, std::string* error = nullptr);

// The `Host` header value for `url`: the port is omitted when it is 80.
std::string host_header(const ProbeUrl& url);

struct ProbeResult {
  bool ok = false;      // true only for status 200
  int status = 0;       // the status code received, 0 if none
  std::string message;  // why it failed, e.g. "connect 127.0.0.1:8080: Connection refused"
};

// Sends `GET path` to `url` and reads the status line. Connect, send and receive together are
// bounded by `timeout` (non-blocking sockets and poll). Name resolution uses getaddrinfo, which
// cannot be interrupted; `localhost` and IP literals never touch the resolver. Thread-safe.
ProbeResult probe(const ProbeUrl& url, std::chrono::milliseconds timeout);

}  // namespace kurz::health
