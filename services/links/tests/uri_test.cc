// to_uri / prepare_target: what a redirect's Location carries for the targets users enter.
#include <gtest/gtest.h>

#include <string>

#include "kurz/links/url.h"

namespace kurz::links {
namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Every %XX decoded; any other '%' kept.
std::string decoded(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// What follows the authority: path, query, fragment.
std::string after_host(const std::string& url) {
  const auto start = url.find("://") + 3;
  const auto end = url.find_first_of("/?#", start);
  return end == std::string::npos ? "" : url.substr(end);
}

bool is_uri_ascii(const std::string& s) {
  for (const char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b >= 0x7F) return false;
    if (std::string_view("\"<>\\^`{|}").find(c) != std::string_view::npos) return false;
  }
  return true;
}

struct Case {
  const char* what;
  std::string target;    // what the user entered (and the API shows)
  std::string location;  // what the redirect sends
};

TEST(ToUriTest, TrickyTargets) {
  const Case cases[] = {
      {"plain ASCII is unchanged", "https://example.com/a/b?c=d&e=f#g",
       "https://example.com/a/b?c=d&e=f#g"},
      {"IDN host, non-ASCII path and query",
       "https://b\xC3\xBC"
       "cher.example/stra\xC3\x9F"
       "e?q=\xC3\xBC",
       "https://xn--bcher-kva.example/stra%C3%9Fe?q=%C3%BC"},
      {"IDN host mapped to lower case (UTS #46)",
       "HTTPS://B\xC3\xBC"
       "cher.Example/",
       "HTTPS://xn--bcher-kva.example/"},
      {"IDN host with a port",
       "https://b\xC3\xBC"
       "cher.example:8443/x",
       "https://xn--bcher-kva.example:8443/x"},
      {"ideographic full stop as a dot",
       "https://b\xC3\xBC"
       "cher\xE3\x80\x82"
       "example/",
       "https://xn--bcher-kva.example/"},
      {"Japanese host and path",
       "https://\xE4\xBE\x8B\xE3\x81\x88.\xE3\x83\x86\xE3\x82\xB9\xE3\x83\x88/"
       "\xE3\x83\x91\xE3\x82\xB9",
       "https://xn--r8jz45g.xn--zckzah/%E3%83%91%E3%82%B9"},
      {"A-label host unchanged", "https://xn--bcher-kva.example/",
       "https://xn--bcher-kva.example/"},
      {"already percent-encoded: not encoded twice", "https://example.com/%E2%82%AC?q=%C3%BC#%20",
       "https://example.com/%E2%82%AC?q=%C3%BC#%20"},
      {"half encoded, half raw", "https://example.com/\xE2\x82\xAC%E2%82%AC",
       "https://example.com/%E2%82%AC%E2%82%AC"},
      {"encoded space kept", "https://example.com/a%20b", "https://example.com/a%20b"},
      {"lower-case hex kept", "https://example.com/%c3%bc", "https://example.com/%c3%bc"},
      {"% at the end", "https://example.com/100%", "https://example.com/100%25"},
      {"% followed by non-hex", "https://example.com/a%zzb?x=%4",
       "https://example.com/a%25zzb?x=%254"},
      {"% in a query value", "https://example.com/?discount=50%off",
       "https://example.com/?discount=50%25off"},
      {"fragment with non-ASCII",
       "https://example.com/p#\xC3\x9C"
       "berblick",
       "https://example.com/p#%C3%9Cberblick"},
      {"second # in the fragment", "https://example.com/p#a#b", "https://example.com/p#a%23b"},
      {"? inside query and fragment allowed", "https://example.com/p?a=?#x?y",
       "https://example.com/p?a=?#x?y"},
      {"characters a URI cannot carry", "https://example.com/a|b{c}^`\"<>\\",
       "https://example.com/a%7Cb%7Bc%7D%5E%60%22%3C%3E%5C"},
      {"brackets outside an IPv6 literal", "https://example.com/?a[]=1",
       "https://example.com/?a%5B%5D=1"},
      {"IPv6 literal kept", "http://[2001:db8::1]:8080/\xC3\xBC",
       "http://[2001:db8::1]:8080/%C3%BC"},
      {"non-ASCII userinfo",
       "https://\xC3\xBC"
       "ser:p\xC3\xA4@example.com/",
       "https://%C3%BCser:p%C3%A4@example.com/"},
      {"stray % in an ASCII host", "https://a%zz.example/", "https://a%25zz.example/"},
      {"percent-encoded ASCII host kept", "https://b%C3%BCcher.example/",
       "https://b%C3%BCcher.example/"},
      {"no path, query only", "https://example.com?q=\xC3\xBC", "https://example.com?q=%C3%BC"},
      {"sub-delims and pchar kept", "https://example.com/a:b@c!$&'()*+,;=~-._",
       "https://example.com/a:b@c!$&'()*+,;=~-._"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    ASSERT_EQ(validate_url(c.target), std::nullopt) << c.target;
    const auto uri = to_uri(c.target);
    ASSERT_TRUE(uri.has_value());
    EXPECT_EQ(*uri, c.location);
    EXPECT_TRUE(is_uri_ascii(*uri)) << *uri;
    EXPECT_EQ(validate_url(*uri), std::nullopt) << *uri;
    EXPECT_EQ(to_uri(*uri), *uri) << "encoding is idempotent";
    EXPECT_EQ(decoded(after_host(*uri)), decoded(after_host(c.target))) << "decodes back";

    Link link{"code", c.target, common::TimePoint{}, {}};
    prepare_target(link);
    EXPECT_TRUE(link.target_valid);
    EXPECT_EQ(location_of(link), c.location);
    EXPECT_EQ(link.url, c.target) << "the stored target is what the user entered";
    EXPECT_EQ(link.location.empty(), c.location == c.target) << "no copy when nothing changes";
  }
}

TEST(ToUriTest, RefusedTargetsHaveNoUri) {
  for (const std::string url : {
           "https://example.com/a b",  // spaces must be entered as %20
           "javascript:alert(1)",
           "https://exa mple.com/",
           "http://example.com/\r\nX: y",
       }) {
    SCOPED_TRACE(url);
    ASSERT_TRUE(validate_url(url).has_value());
    EXPECT_EQ(to_uri(url), std::nullopt);
    Link link{"code", url, common::TimePoint{}, {}};
    prepare_target(link);
    EXPECT_FALSE(link.target_valid);
  }
}

// New links need an A-label for a non-ASCII host; a link stored before that rule keeps
// redirecting, its host's UTF-8 percent-encoded (RFC 3986 §3.2.2).
TEST(ToUriTest, HostsWithoutAnALabelAreRefusedAtCreateButOldLinksStillRedirect) {
  const Case cases[] = {
      {"a symbol: IDNA 2008 disallows it",
       "https://a\xE2\x98\x83"
       "b.example/\xC3\xBC",
       "https://a%E2%98%83b.example/%C3%BC"},
      {"-- in the 3rd and 4th positions", "https://ab--c.\xC3\xBC/", "https://ab--c.%C3%BC/"},
      {"not a domain name once decoded", "https://b\xC3\xBC%zz.example/",
       "https://b%C3%BC%25zz.example/"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const auto error = validate_url(c.target);
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(error->code, "invalid_url");
    EXPECT_NE(error->message.find("IDNA"), std::string::npos) << error->message;
    EXPECT_EQ(to_uri(c.target), c.location);
    EXPECT_EQ(validate_url(c.location), std::nullopt);
    Link link{"code", c.target, common::TimePoint{}, {}};
    prepare_target(link);
    EXPECT_TRUE(link.target_valid);
    EXPECT_EQ(location_of(link), c.location);
  }
}

}  // namespace
}  // namespace kurz::links
