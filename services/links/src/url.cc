#include "kurz/links/url.h"

#include <string>

#include "kurz/common/utf8.h"

namespace kurz::links {
namespace {

using common::Error;
using common::ErrorKind;

Error invalid(std::string message) {
  return Error{ErrorKind::Invalid, "invalid_url", std::move(message)};
}

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != b[i]) return false;
  }
  return true;
}

// Spaces, C0 controls, DEL, C1 controls (U+0080..U+009F) and invisible characters that can
// disguise a URL when it is displayed.
bool has_forbidden_characters(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b <= 0x20 || b == 0x7F) return true;
    if (b == 0xC2 && i + 1 < s.size()) {
      const auto next = static_cast<unsigned char>(s[i + 1]);
      if (next >= 0x80 && next <= 0x9F) return true;
    }
    if (b == 0xE2 && i + 2 < s.size()) {
      const auto b1 = static_cast<unsigned char>(s[i + 1]);
      const auto b2 = static_cast<unsigned char>(s[i + 2]);
      if (b1 == 0x80 && b2 >= 0xA8 && b2 <= 0xAE) return true;  // U+2028..U+202E
      if (b1 == 0x81 && b2 >= 0xA6 && b2 <= 0xA9) return true;  // U+2066..U+2069
    }
    if (b == 0xEF && s.substr(i, 3) == "\xEF\xBB\xBF") return true;  // U+FEFF
  }
  return false;
}

// reg-name characters we accept: unreserved, percent signs, and non-ASCII (IDN) bytes.
bool is_host_char(char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '%' ||
         static_cast<unsigned char>(c) >= 0x80;
}

std::optional<Error> validate_port(std::string_view port) {
  if (port.empty() || port.size() > 5) return invalid("the URL's port must be between 1 and 65535");
  unsigned value = 0;
  for (const char c : port) {
    if (!is_digit(c)) return invalid("the URL's port must be a number");
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value < 1 || value > 65535) return invalid("the URL's port must be between 1 and 65535");
  return std::nullopt;
}

std::optional<Error> validate_authority(std::string_view authority) {
  if (authority.find('\\') != std::string_view::npos) {
    return invalid("the URL's host part must not contain a backslash");
  }
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);  // userinfo is allowed, but a host must follow it
  }
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return invalid("the URL's IPv6 address is not closed");
    const std::string_view ip = authority.substr(1, close - 1);
    if (ip.empty() || ip.find(':') == std::string_view::npos) {
      return invalid("the URL's IPv6 address is not valid");
    }
    for (const char c : ip) {
      if (!is_hex(c) && c != ':' && c != '.') return invalid("the URL's IPv6 address is not valid");
    }
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return invalid("the URL's host is not valid");
      has_port = true;
      port = rest.substr(1);
    }
  } else {
    std::string_view host = authority;
    if (const auto colon = authority.find(':'); colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      has_port = true;
      port = authority.substr(colon + 1);
    }
    if (host.empty()) return invalid("the URL must name a host");
    for (const char c : host) {
      if (!is_host_char(c)) return invalid("the URL's host name is not valid");
    }
  }
  if (has_port) return validate_port(port);
  return std::nullopt;
}

}  // namespace

std::optional<Error> validate_url(std::string_view url) {
  if (url.empty()) return invalid("a URL is required");
  if (url.size() > kMaxUrlBytes) {
    return invalid("the URL is too long: at most " + std::to_string(kMaxUrlBytes) +
                   " bytes are allowed");
  }
  if (!common::is_valid_utf8(url)) return invalid("the URL is not valid UTF-8");
  if (has_forbidden_characters(url)) {
    return invalid("the URL must not contain spaces, control or invisible characters");
  }

  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"
  std::size_t colon = 0;
  while (colon < url.size() &&
         (is_alpha(url[colon]) || (colon > 0 && (is_digit(url[colon]) || url[colon] == '+' ||
                                                 url[colon] == '-' || url[colon] == '.')))) {
    ++colon;
  }
  if (colon == 0 || colon >= url.size() || url[colon] != ':') {
    return invalid("the URL must be absolute and start with http:// or https://");
  }
  const std::string_view scheme = url.substr(0, colon);
  if (!iequals(scheme, "http") && !iequals(scheme, "https")) {
    return invalid("only http and https URLs can be shortened");
  }
  std::string_view rest = url.substr(colon + 1);
  if (rest.substr(0, 2) != "//") {
    return invalid("the URL must be absolute and start with http:// or https://");
  }
  rest.remove_prefix(2);
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  return validate_authority(authority);
}

}  // namespace kurz::links
