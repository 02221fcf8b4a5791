#include "kurz/links/url.h"

#include <gtest/gtest.h>

#include <string>

namespace kurz::links {
namespace {

TEST(ValidateUrlTest, AcceptsHttpAndHttpsUrls) {
  for (const char* url : {
           "http://example.com",
           "https://example.com/",
           "HTTPS://Example.COM/Path?q=1#frag",
           "HtTp://example.com",
           "https://example.com:8443/a/b?c=d&e=f",
           "https://user:pass@example.com/",
           "https://[::1]:8080/x",
           "http://[2001:db8::1]/",
           "http://[::ffff:192.0.2.1]/",
           "http://192.168.0.1/",
           "https://xn--bcher-kva.example/",
           "https://b\303\274cher.example/\342\202\254",  // octal: "bücher", "€" in UTF-8
           "https://example.com/?q=%20encoded",
           "https://example.com:1",
           "https://example.com:65535/",
           "https://localhost",
       }) {
    EXPECT_EQ(validate_url(url), std::nullopt) << url;
  }
}

TEST(ValidateUrlTest, RejectsHostileAndMalformedUrls) {
  const std::string too_long = "https://example.com/" + std::string(2049 - 20, 'a');
  ASSERT_EQ(too_long.size(), 2049U);
  for (const std::string& url : {
           std::string(""),
           std::string("javascript:alert(1)"),
           std::string("JaVaScRiPt:alert(1)"),
           std::string("javascript://example.com/%0aalert(1)"),
           std::string("data:text/html,<script>alert(1)</script>"),
           std::string("file:///etc/passwd"),
           std::string("vbscript:msgbox"),
           std::string("ftp://example.com/file"),
           std::string("mailto:someone@example.com"),
           std::string(" http://x"),
           std::string("http://x "),
           std::string("http://exa mple.com"),
           std::string("http://a\x01"
                       "b"),
           std::string("http://example.com/\x7f"),
           std::string("http://example.com/\t"),
           std::string("http://example.com/\n"),
           std::string("http://example.com/a\0b", 22),
           std::string("http://example.com/\xC2\x85"),  // C1 control (NEL)
           std::string("http://example.com/\xE2\x80\xAE"
                       "gpj"),                      // right-to-left override
           std::string("http://example.com/\xFF"),  // invalid UTF-8
           std::string("http://example.com/\xC3"),  // truncated UTF-8
           std::string("http://\xC0\xAF"
                       "example.com/"),  // overlong UTF-8
           too_long,
           std::string("//example.com"),
           std::string("http:example.com"),
           std::string("http:/example.com"),
           std::string("example.com"),
           std::string("http://"),
           std::string("http:///x"),
           std::string("http://:80"),
           std::string("http://user@"),
           std::string("http://user:pass@/x"),
           std::string("http://example.com:99999"),
           std::string("http://example.com:0"),
           std::string("http://example.com:"),
           std::string("http://example.com:80a"),
           std::string("http://example.com:-1"),
           std::string("http://[::1"),
           std::string("http://[]/"),
           std::string("http://[example.com]/"),
           std::string("http://[::1]x/"),
           std::string("http://exa<mple.com/"),
           std::string("http://evil.com\\@good.com/"),
           std::string("1http://example.com"),
       }) {
    const auto error = validate_url(url);
    ASSERT_TRUE(error.has_value()) << url;
    EXPECT_EQ(error->kind, common::ErrorKind::Invalid) << url;
    EXPECT_EQ(error->code, "invalid_url") << url;
    EXPECT_FALSE(error->message.empty()) << url;
  }
}

TEST(ValidateUrlTest, ExplainsWhy) {
  EXPECT_EQ(validate_url("javascript:alert(1)")->message,
            "only http and https URLs can be shortened");
  EXPECT_EQ(validate_url("data:text/html,x")->message, "only http and https URLs can be shortened");
  EXPECT_NE(validate_url(std::string(3000, 'a'))->message.find("2048"), std::string::npos);
}

TEST(ValidateUrlTest, AcceptsExactlyTheMaximumLength) {
  const std::string url = "https://example.com/" + std::string(kMaxUrlBytes - 20, 'a');
  ASSERT_EQ(url.size(), kMaxUrlBytes);
  EXPECT_EQ(validate_url(url), std::nullopt);
}

}  // namespace
}  // namespace kurz::links
