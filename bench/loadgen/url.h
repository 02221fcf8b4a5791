#pragma once
// The base URL: http://host[:port][/prefix], resolved once to one IPv4 or IPv6 address.
#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>
#include <string>

namespace kurz::load {

struct BaseUrl {
  std::string host;  // as written (the Host header)
  int port = 80;
  std::string prefix;  // "" or "/something", no trailing slash
  std::string text;    // the URL without a trailing slash

  static std::optional<BaseUrl> parse(const std::string& url, std::string& error);
  std::string host_header() const;
};

struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  std::string text;  // "127.0.0.1:8080"
};

// getaddrinfo; empty optional and a message when the name does not resolve.
std::optional<Address> resolve(const BaseUrl& url, std::string& error);

}  // namespace kurz::load
