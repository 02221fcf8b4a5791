#include "kurz/platform/router.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace kurz::platform {
namespace {

Handler named(std::string name) {
  return [name = std::move(name)](const Request&) { return Reply::text(200, name); };
}

Router sample() {
  Router router;
  router.get("/", named("root"));
  router.get("/:code", named("redirect"));
  router.get("/api/links", named("list"));
  router.post("/api/links", named("create"));
  router.get("/api/links/:code", named("get"));
  router.del("/api/links/:code", named("delete"));
  router.get("/api/stats/top", named("top"));
  router.get("/api/stats/:code", named("stats"));
  router.get("/qr/:code.svg", named("svg"));
  router.get("/qr/:code.png", named("png"));
  return router;
}

TEST(RouterTest, LiteralsWinOverParameters) {
  const auto router = sample();
  auto match = router.match(Method::Get, "/api/stats/top");
  ASSERT_EQ(match.kind, Router::Match::Kind::Found);
  EXPECT_EQ(match.route->path_template, "/api/stats/top");
  match = router.match(Method::Get, "/api/stats/abc");
  ASSERT_EQ(match.kind, Router::Match::Kind::Found);
  EXPECT_EQ(match.route->path_template, "/api/stats/:code");
  ASSERT_EQ(match.params.size(), 1u);
  EXPECT_EQ(match.params[0].second, "abc");
}

TEST(RouterTest, RootAndSingleSegment) {
  const auto router = sample();
  EXPECT_EQ(router.match(Method::Get, "/").route->path_template, "/");
  EXPECT_EQ(router.match(Method::Get, "/abc123").route->path_template, "/:code");
}

TEST(RouterTest, SuffixParameters) {
  const auto router = sample();
  auto match = router.match(Method::Get, "/qr/abc.svg");
  ASSERT_EQ(match.kind, Router::Match::Kind::Found);
  EXPECT_EQ(match.route->path_template, "/qr/:code.svg");
  EXPECT_EQ(match.params[0].second, "abc");
  EXPECT_EQ(router.match(Method::Get, "/qr/abc.png").route->path_template, "/qr/:code.png");
  EXPECT_EQ(router.match(Method::Get, "/qr/abc.gif").kind, Router::Match::Kind::NotFound);
  EXPECT_EQ(router.match(Method::Get, "/qr/.svg").kind, Router::Match::Kind::NotFound);
}

TEST(RouterTest, WrongMethodListsAllowed) {
  const auto router = sample();
  const auto match = router.match(Method::Put, "/api/links");
  ASSERT_EQ(match.kind, Router::Match::Kind::MethodNotAllowed);
  EXPECT_EQ(match.allowed.size(), 2u);
  EXPECT_EQ(router.match(Method::Post, "/api/links/x").kind, Router::Match::Kind::MethodNotAllowed);
}

TEST(RouterTest, HeadFallsBackToGet) {
  const auto router = sample();
  EXPECT_EQ(router.match(Method::Head, "/api/links").kind, Router::Match::Kind::Found);
}

TEST(RouterTest, PathTricksDoNotMatch) {
  const auto router = sample();
  for (const char* path : {"", "api", "//", "/api//links", "/api/links/", "/api/links/x/y",
                           "/api/links/%zz", "/api/links/%4"}) {
    EXPECT_EQ(router.match(Method::Get, path).kind, Router::Match::Kind::NotFound) << path;
  }
}

TEST(RouterTest, ParametersArePercentDecoded) {
  const auto router = sample();
  const auto match = router.match(Method::Get, "/api/links/a%20b%2Fc");
  ASSERT_EQ(match.kind, Router::Match::Kind::Found);
  EXPECT_EQ(match.params[0].second, "a b/c");
}

TEST(RouterTest, RejectsBadTemplatesAndDuplicates) {
  Router router;
  EXPECT_THROW(router.get("no-slash", named("x")), std::invalid_argument);
  EXPECT_THROW(router.get("/a//b", named("x")), std::invalid_argument);
  EXPECT_THROW(router.get("/:", named("x")), std::invalid_argument);
  router.get("/a", named("x"));
  EXPECT_THROW(router.get("/a", named("y")), std::invalid_argument);
}

}  // namespace
}  // namespace kurz::platform
