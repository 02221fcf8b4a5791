#include "kurz/links/url.h"

#include <idn2.h>

#include <algorithm>
#include <cstdint>
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

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

bool is_ascii(std::string_view s) {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// %XX sequences decoded; a '%' not followed by two hex digits is kept as it is.
std::string percent_decoded(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// The A-label form of a reg-name with non-ASCII characters (IDNA 2008, UTS #46 non-transitional
// mapping: what browsers do); percent-encoded octets in it are decoded first. nullopt when it has
// none (a host that is no domain name, or one whose labels IDNA refuses).
std::optional<std::string> a_label_host(std::string_view host) {
  const std::string decoded = percent_decoded(host);
  if (!common::is_valid_utf8(decoded) || decoded.find('\0') != std::string::npos) {
    return std::nullopt;
  }
  char* ascii = nullptr;
  const int rc = idn2_lookup_u8(reinterpret_cast<const std::uint8_t*>(decoded.c_str()),
                                reinterpret_cast<std::uint8_t**>(&ascii),
                                IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
  if (rc != IDN2_OK || ascii == nullptr) {
    idn2_free(ascii);
    return std::nullopt;
  }
  std::string result(ascii);
  idn2_free(ascii);
  // A host name in a URI: letters, digits, '-', '.' (and '_', '~' which some hosts use).
  if (result.empty()) return std::nullopt;
  for (const char c : result) {
    if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '.' && c != '_' && c != '~') {
      return std::nullopt;
    }
  }
  return result;
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

// `idna`: a non-ASCII host must have an A-label (the rule for new links).
std::optional<Error> validate_authority(std::string_view authority, bool idna) {
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
    if (idna && !is_ascii(host) && !a_label_host(host)) {
      return invalid("the URL's host is not a valid internationalised domain name (IDNA)");
    }
  }
  if (has_port) return validate_port(port);
  return std::nullopt;
}

// Appends `part` with every byte that `allowed` refuses percent-encoded; a '%' that starts a
// valid %XX stays (already encoded, never encoded twice), any other '%' becomes %25.
template <typename Allowed>
void append_encoded(std::string& out, std::string_view part, Allowed allowed) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (std::size_t i = 0; i < part.size(); ++i) {
    const char c = part[i];
    if (c == '%' && i + 2 < part.size() && is_hex(part[i + 1]) && is_hex(part[i + 2])) {
      out.push_back('%');
      continue;
    }
    if (c != '%' && allowed(c)) {
      out.push_back(c);
      continue;
    }
    const auto b = static_cast<unsigned char>(c);
    out.push_back('%');
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0x0F]);
  }
}

bool is_unreserved(char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
bool is_sub_delim(char c) {
  return c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' ||
         c == '+' || c == ',' || c == ';' || c == '=';
}
// pchar (RFC 3986 §3.3) less pct-encoded, which append_encoded handles.
bool is_pchar(char c) { return is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '@'; }
bool is_path_char(char c) { return is_pchar(c) || c == '/'; }
bool is_query_char(char c) { return is_pchar(c) || c == '/' || c == '?'; }
bool is_userinfo_char(char c) { return is_unreserved(c) || is_sub_delim(c) || c == ':'; }
bool is_reg_name_char(char c) { return is_unreserved(c) || is_sub_delim(c); }

std::optional<Error> check_url(std::string_view url, bool idna) {
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
  return validate_authority(authority, idna);
}

}  // namespace

std::optional<Error> validate_url(std::string_view url) { return check_url(url, true); }

std::optional<std::string> to_uri(std::string_view url) {
  // Not validate_url: a link stored before hosts needed an A-label still redirects (below).
  if (check_url(url, false)) return std::nullopt;
  // validate_url has checked the shape: scheme "://" authority [path] ["?" query] ["#" fragment].
  const std::size_t authority_start = url.find("://") + 3;
  const std::size_t authority_end = std::min(url.find_first_of("/?#", authority_start), url.size());
  std::string out;
  out.reserve(url.size() + 16);
  out.append(url.substr(0, authority_start));  // the scheme, ASCII letters as validated

  std::string_view authority = url.substr(authority_start, authority_end - authority_start);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    append_encoded(out, authority.substr(0, at), is_userinfo_char);
    out.push_back('@');
    authority.remove_prefix(at + 1);
  }
  if (!authority.empty() && authority.front() == '[') {
    out.append(authority);  // an IPv6 literal and its port: ASCII, as validated
  } else {
    const auto colon = authority.find(':');
    const std::string_view host = authority.substr(0, colon);
    // An ASCII host as it is, else its A-label; with no A-label (a link from before the rule),
    // its UTF-8, percent-encoded (RFC 3986).
    const auto a_label = is_ascii(host) ? std::nullopt : a_label_host(host);
    if (a_label) {
      out.append(*a_label);
    } else {
      append_encoded(out, host, is_reg_name_char);
    }
    if (colon != std::string_view::npos) out.append(authority.substr(colon));  // ":" port
  }

  std::string_view rest = url.substr(authority_end);
  const auto hash = rest.find('#');
  const std::string_view before_fragment = rest.substr(0, hash);
  const auto question = before_fragment.find('?');
  append_encoded(out, before_fragment.substr(0, question), is_path_char);
  if (question != std::string_view::npos) {
    out.push_back('?');
    append_encoded(out, before_fragment.substr(question + 1), is_query_char);
  }
  if (hash != std::string_view::npos) {
    out.push_back('#');
    append_encoded(out, rest.substr(hash + 1), is_query_char);  // a second '#' is encoded
  }
  return out;
}

void prepare_target(Link& link) {
  auto uri = to_uri(link.url);
  link.target_valid = uri.has_value();
  if (uri && *uri != link.url) {
    link.location = std::move(*uri);
  } else {
    link.location.clear();
  }
}

}  // namespace kurz::links
