#include "kurz/links/slug.h"

#include <gtest/gtest.h>

#include <string>

namespace kurz::links {
namespace {

TEST(ValidateSlugTest, AcceptsSafeSlugs) {
  for (const char* slug : {"abc", "my-link", "My_Link_2", "0abc", "A-_-z", "apis", "api-docs"}) {
    EXPECT_EQ(validate_slug(slug), std::nullopt) << slug;
  }
  EXPECT_EQ(validate_slug(std::string(64, 'x')), std::nullopt);
}

TEST(ValidateSlugTest, RejectsBadLengthAndAlphabet) {
  for (const std::string& slug : {
           std::string(""),
           std::string("ab"),
           std::string(65, 'x'),
           std::string("-abc"),
           std::string("_abc"),
           std::string("a b"),
           std::string("a/b"),
           std::string("a.b"),
           std::string("a%20"),
           std::string("caf\xC3\xA9"),
           std::string("abc\n"),
           std::string("ab\0c", 4),
           std::string("../x"),
           std::string("a?b"),
       }) {
    const auto error = validate_slug(slug);
    ASSERT_TRUE(error.has_value()) << slug;
    EXPECT_EQ(error->kind, common::ErrorKind::Invalid);
    EXPECT_EQ(error->code, "invalid_slug") << slug;
  }
}

TEST(ValidateSlugTest, RejectsReservedWordsCaseInsensitively) {
  for (const char* slug :
       {"api", "API", "Api", "health", "HEALTH", "metrics", "info", "static", "assets", "admin",
        "login", "logout", "www", "docs", "openapi", "OpenAPI", "stats", "links"}) {
    const auto error = validate_slug(slug);
    ASSERT_TRUE(error.has_value()) << slug;
    EXPECT_EQ(error->code, "slug_reserved") << slug;
    EXPECT_NE(error->message.find(slug), std::string::npos);
  }
}

TEST(IsReservedTest, CoversEverythingServedAtTopLevel) {
  for (const char* word : {"api", "health", "metrics", "info", "qr", "static", "assets",
                           "favicon.ico", "robots.txt", "admin", "login", "logout", "www", "docs",
                           "openapi", "index.html", "QR", "Favicon.ICO", "top"}) {
    EXPECT_TRUE(is_reserved(word)) << word;
  }
  EXPECT_FALSE(is_reserved("apix"));
  EXPECT_FALSE(is_reserved("ap"));
  EXPECT_FALSE(is_reserved(""));
}

TEST(IsWellFormedCodeTest, MatchesTheSlugShape) {
  EXPECT_TRUE(is_well_formed_code("aZ3_x-9"));
  EXPECT_TRUE(is_well_formed_code("api"));  // reserved, but shaped like a code
  EXPECT_FALSE(is_well_formed_code("ab"));
  EXPECT_FALSE(is_well_formed_code(std::string(65, 'a')));
  EXPECT_FALSE(is_well_formed_code("-abc"));
  EXPECT_FALSE(is_well_formed_code("abc.png"));
  EXPECT_FALSE(is_well_formed_code("%2e%2e"));
  EXPECT_FALSE(is_well_formed_code(""));
}

}  // namespace
}  // namespace kurz::links
