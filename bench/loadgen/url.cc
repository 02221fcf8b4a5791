#include "url.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <charconv>
#include <cstring>

namespace kurz::load {

std::optional<BaseUrl> BaseUrl::parse(const std::string& url, std::string& error) {
  const std::string scheme = "http://";
  if (url.rfind("https://", 0) == 0) {
    error = "--base-url: https is not supported (use the plain http port): " + url;
    return std::nullopt;
  }
  if (url.rfind(scheme, 0) != 0) {
    error = "--base-url must start with http://, got '" + url + "'";
    return std::nullopt;
  }
  BaseUrl out;
  std::string rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  out.prefix = slash == std::string::npos ? "" : rest.substr(slash);
  while (!out.prefix.empty() && out.prefix.back() == '/') out.prefix.pop_back();
  if (out.prefix.find_first_of("?# ") != std::string::npos) {
    error = "--base-url: no query, fragment or spaces in the path, got '" + url + "'";
    return std::nullopt;
  }
  if (authority.find('@') != std::string::npos) {
    error = "--base-url: no user information, got '" + url + "'";
    return std::nullopt;
  }
  std::string port;
  if (!authority.empty() && authority[0] == '[') {  // [::1]:8080
    const auto close = authority.find(']');
    if (close == std::string::npos) {
      error = "--base-url: unclosed '[' in '" + url + "'";
      return std::nullopt;
    }
    out.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        error = "--base-url: bad authority in '" + url + "'";
        return std::nullopt;
      }
      port = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.rfind(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) {
    error = "--base-url has no host: '" + url + "'";
    return std::nullopt;
  }
  if (authority.find(':') != std::string::npos && authority[0] != '[' &&
      out.host.find(':') != std::string::npos) {
    error = "--base-url: write an IPv6 host in brackets, got '" + url + "'";
    return std::nullopt;
  }
  if (!port.empty() || authority.back() == ':') {
    int value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value < 1 ||
        value > 65535) {
      error = "--base-url: the port must be 1 to 65535, got '" + port + "'";
      return std::nullopt;
    }
    out.port = value;
  }
  out.text = scheme + authority + out.prefix;
  return out;
}

std::string BaseUrl::host_header() const {
  const std::string host_part = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return port == 80 ? host_part : host_part + ":" + std::to_string(port);
}

std::optional<Address> resolve(const BaseUrl& url, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(url.port);
  const int rc = getaddrinfo(url.host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    error = "cannot resolve " + url.host + ": " + gai_strerror(rc);
    return std::nullopt;
  }
  Address out;
  std::memcpy(&out.storage, found->ai_addr, found->ai_addrlen);
  out.length = found->ai_addrlen;
  char text[INET6_ADDRSTRLEN] = {};
  const void* raw =
      found->ai_family == AF_INET6
          ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(found->ai_addr)->sin6_addr)
          : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr);
  inet_ntop(found->ai_family, raw, text, sizeof text);
  out.text = (found->ai_family == AF_INET6 ? "[" + std::string(text) + "]" : std::string(text)) +
             ":" + port;
  freeaddrinfo(found);
  return out;
}

}  // namespace kurz::load
