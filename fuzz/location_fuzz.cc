// links::to_uri, what a redirect's Location carries. For every target validate_url accepts, the
// URI is ASCII with no character a URI cannot carry, parses as an absolute URI (RFC 3986,
// checked by the small grammar below, not by the encoder's own code), is itself a valid target
// that encodes to itself, and decodes back to the stored target: the same userinfo, path, query
// and fragment once percent-decoded, and the same host (an IDN host's A-label decodes to the
// host as entered when that is already in IDNA 2008 form, else to a name that maps to it again).
// For every target validate_url refuses, there is no URI at all, except when it is refused only
// because its non-ASCII host has no A-label (an older link): then the host is percent-encoded.
#include <idn2.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "kurz/links/url.h"

namespace {

using kurz::fuzz::require;

bool alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool digit(char c) { return c >= '0' && c <= '9'; }
bool hexdig(char c) { return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool unreserved(char c) {
  return alpha(c) || digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
bool sub_delim(char c) { return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos; }

// *( allowed / pct-encoded ) over [i, end)
bool run_of(std::string_view s, bool (*allowed)(char)) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size() || !hexdig(s[i + 1]) || !hexdig(s[i + 2])) return false;
      i += 2;
    } else if (!allowed(s[i])) {
      return false;
    }
  }
  return true;
}
bool userinfo_char(char c) { return unreserved(c) || sub_delim(c) || c == ':'; }
bool reg_name_char(char c) { return unreserved(c) || sub_delim(c); }
bool path_char(char c) { return unreserved(c) || sub_delim(c) || c == ':' || c == '@' || c == '/'; }
bool query_char(char c) { return path_char(c) || c == '?'; }

struct Parts {
  std::string_view scheme, userinfo, host, port, path, query, fragment;
  bool has_userinfo = false, has_query = false, has_fragment = false;
};

// Splits an "scheme://authority path ?query #fragment" string (the shape validate_url checks).
Parts split(std::string_view url) {
  Parts p;
  const auto colon = url.find("://");
  p.scheme = url.substr(0, colon);
  std::string_view rest = url.substr(colon + 3);
  const auto end = std::min(rest.find_first_of("/?#"), rest.size());
  std::string_view authority = rest.substr(0, end);
  rest.remove_prefix(end);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    p.has_userinfo = true;
    p.userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
  }
  const auto port_colon = !authority.empty() && authority.front() == '['
                              ? authority.find(':', authority.find(']'))
                              : authority.find(':');
  p.host = authority.substr(0, port_colon);
  if (port_colon != std::string_view::npos) p.port = authority.substr(port_colon + 1);
  const auto hash = rest.find('#');
  if (hash != std::string_view::npos) {
    p.has_fragment = true;
    p.fragment = rest.substr(hash + 1);
    rest = rest.substr(0, hash);
  }
  const auto question = rest.find('?');
  if (question != std::string_view::npos) {
    p.has_query = true;
    p.query = rest.substr(question + 1);
    rest = rest.substr(0, question);
  }
  p.path = rest;
  return p;
}

// RFC 3986 absolute URI with an authority, as a redirect sends it.
bool parses_as_uri(std::string_view uri) {
  const auto colon = uri.find("://");
  if (colon == std::string_view::npos || colon == 0 || !alpha(uri[0])) return false;
  for (const char c : uri.substr(0, colon)) {
    if (!alpha(c) && !digit(c) && c != '+' && c != '-' && c != '.') return false;
  }
  const Parts p = split(uri);
  if (p.has_userinfo && !run_of(p.userinfo, userinfo_char)) return false;
  if (!p.host.empty() && p.host.front() == '[') {
    if (p.host.back() != ']') return false;
    for (const char c : p.host.substr(1, p.host.size() - 2)) {
      if (!hexdig(c) && c != ':' && c != '.') return false;
    }
  } else if (!run_of(p.host, reg_name_char)) {
    return false;
  }
  for (const char c : p.port) {
    if (!digit(c)) return false;
  }
  if (!p.path.empty() && p.path.front() != '/') return false;  // path-abempty
  return run_of(p.path, path_char) && run_of(p.query, query_char) && run_of(p.fragment, query_char);
}

int hex_value(char c) {
  if (digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

std::string decoded(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hexdig(s[i + 1]) && hexdig(s[i + 2])) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string ascii_lower(std::string s) {
  for (auto& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

bool is_ascii(std::string_view s) {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// The label separators IDNA accepts besides '.' (U+3002, U+FF0E, U+FF61) as '.'.
std::string dots(std::string s) {
  for (const std::string_view dot : {"\xE3\x80\x82", "\xEF\xBC\x8E", "\xEF\xBD\xA1"}) {
    for (auto at = s.find(dot); at != std::string::npos; at = s.find(dot, at + 1)) {
      s.replace(at, dot.size(), ".");
    }
  }
  return s;
}

std::vector<std::string> labels(const std::string& host) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (auto dot = host.find('.');; dot = host.find('.', start)) {
    out.push_back(host.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out;
}

std::string to_unicode(const std::string& a_label) {
  char* out = nullptr;
  const int rc = idn2_to_unicode_8z8z(a_label.c_str(), &out, 0);
  std::string result = rc == IDN2_OK && out != nullptr ? std::string(out) : std::string();
  idn2_free(out);
  require(rc == IDN2_OK, "the A-label host decodes to Unicode");
  return result;
}

// The A-label of a host: in strict IDNA 2008 (IDN2_NO_TR46: no mapping), or with UTS #46 mapping as
// kurz does; "" when there is none.
std::string a_label(const std::string& host, int flags) {
  char* out = nullptr;
  const int rc = idn2_lookup_u8(reinterpret_cast<const std::uint8_t*>(host.c_str()),
                                reinterpret_cast<std::uint8_t**>(&out), flags);
  std::string result = rc == IDN2_OK && out != nullptr ? std::string(out) : std::string();
  idn2_free(out);
  return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string url(reinterpret_cast<const char*>(data), size);
  const auto uri = kurz::links::to_uri(url);
  kurz::links::Link link{"code", url, {}, {}};
  kurz::links::prepare_target(link);
  const auto refused = kurz::links::validate_url(url);
  if (refused && !uri) {
    require(!link.target_valid, "a refused target is not valid");
    return 0;
  }
  // A link stored before hosts needed an A-label still has a URI: only that refusal allows one.
  require(!refused || refused->message.find("IDNA") != std::string::npos,
          "a refused target has no URI, unless only for its host's A-label");
  require(uri.has_value(), "an accepted target has a URI");
  require(link.target_valid && kurz::links::location_of(link) == *uri, "prepare_target agrees");
  for (const unsigned char c : *uri) {
    require(c > 0x20 && c < 0x7F, "the URI is printable ASCII");
    require(std::string_view("\"<>\\^`{|}").find(static_cast<char>(c)) == std::string_view::npos,
            "the URI has no character a URI cannot carry");
  }
  require(parses_as_uri(*uri), "the URI parses (RFC 3986)");
  require(uri->size() <= kurz::links::kMaxUriBytes, "the URI is bounded");
  if (uri->size() <= kurz::links::kMaxUrlBytes) {  // else longer than a target may be, only that
    require(!kurz::links::validate_url(*uri), "the URI is itself a valid target");
    require(kurz::links::to_uri(*uri) == *uri, "encoding is idempotent");
  }

  const Parts stored = split(url);
  const Parts sent = split(*uri);
  require(sent.scheme == stored.scheme, "same scheme");
  require(sent.port == stored.port, "same port");
  require(sent.has_userinfo == stored.has_userinfo && sent.has_query == stored.has_query &&
              sent.has_fragment == stored.has_fragment,
          "same parts");
  require(decoded(sent.userinfo) == decoded(stored.userinfo), "userinfo decodes back");
  require(decoded(sent.path) == decoded(stored.path), "path decodes back");
  require(decoded(sent.query) == decoded(stored.query), "query decodes back");
  require(decoded(sent.fragment) == decoded(stored.fragment), "fragment decodes back");
  if (is_ascii(stored.host) || refused) {  // sent as it is, or percent-encoded
    require(decoded(sent.host) == decoded(stored.host), "the host decodes back");
  } else {
    const std::string host(sent.host);
    const std::string unicode = to_unicode(host);
    const std::string entered = decoded(stored.host);
    if (!a_label(entered, IDN2_NO_TR46).empty()) {
      // Label by label: a label entered in ASCII (perhaps an A-label already) is sent as it
      // was, in lower case; a non-ASCII one is sent as the A-label that decodes to it.
      const auto sent_labels = labels(host);
      const auto unicode_labels = labels(unicode);
      const auto entered_labels = labels(dots(entered));
      require(sent_labels.size() == entered_labels.size() &&
                  unicode_labels.size() == entered_labels.size(),
              "as many labels");
      for (std::size_t i = 0; i < entered_labels.size(); ++i) {
        require(is_ascii(entered_labels[i]) ? sent_labels[i] == ascii_lower(entered_labels[i])
                                            : unicode_labels[i] == entered_labels[i],
                "an IDNA 2008 host decodes back");
      }
    } else {  // entered with capitals, full-width forms, ...: UTS #46 mapped it
      require(a_label(unicode, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) == host,
              "a mapped host decodes to a name with this A-label");
    }
  }
  return 0;
}
