// Every public route of the stage 1 monolith, in-process on port 0.
#include "kurz/common/time.h"
#include "monolith_fixture.h"

namespace kurz::testing {
namespace {

using nlohmann::json;

TEST_F(MonolithTest, CreatesALinkWithAGeneratedCode) {
  const auto response = post_json("/api/links", R"({"url":"https://example.com/a?b=c#d"})");
  ASSERT_EQ(response.status, 201) << response.body;
  const auto link = json::parse(response.body);
  const std::string code = link["code"];
  EXPECT_EQ(code.size(), 7u);
  EXPECT_EQ(link["url"], "https://example.com/a?b=c#d");
  EXPECT_EQ(link["shortUrl"], std::string(kBaseUrl) + "/" + code);
  EXPECT_EQ(link["createdAt"], common::format_rfc3339(clock_.now()));
  EXPECT_TRUE(link["expiresAt"].is_null());
  EXPECT_EQ(response.header("Location"), "/api/links/" + code);
  EXPECT_EQ(response.header("Content-Type"), "application/json");
  EXPECT_EQ(response.header("X-Instance-Id"), "test-instance");
}

TEST_F(MonolithTest, CustomSlugIsClaimedOnce) {
  EXPECT_EQ(create({{"url", "https://example.com/"}, {"slug", "Launch-2026"}})["code"],
            "Launch-2026");
  const auto again =
      post_json("/api/links", R"({"url":"https://example.org/","slug":"Launch-2026"})");
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(error_code(again), "slug_taken");
  EXPECT_EQ(json::parse(get("/api/links/Launch-2026").body)["url"], "https://example.com/");
}

TEST_F(MonolithTest, GetsOneLink) {
  const auto link = create({{"url", "https://example.com/x"}});
  const auto response = get("/api/links/" + link["code"].get<std::string>());
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(json::parse(response.body), link);
  const auto missing = get("/api/links/nope123");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(error_code(missing), "not_found");
}

TEST_F(MonolithTest, ListsNewestFirstWithACursor) {
  std::vector<std::string> codes;
  for (int i = 0; i < 5; ++i) {
    codes.push_back(create({{"url", "https://example.com/" + std::to_string(i)}})["code"]);
  }
  std::vector<std::string> seen;
  std::string target = "/api/links?limit=2";
  for (int page = 0; page < 5; ++page) {
    const auto response = get(target);
    ASSERT_EQ(response.status, 200) << response.body;
    const auto body = json::parse(response.body);
    for (const auto& item : body["items"]) seen.push_back(item["code"]);
    EXPECT_LE(body["items"].size(), 2u);
    if (body["nextCursor"].is_null()) break;
    target = "/api/links?limit=2&cursor=" + body["nextCursor"].get<std::string>();
  }
  EXPECT_EQ(seen, std::vector<std::string>(codes.rbegin(), codes.rend()));
}

TEST_F(MonolithTest, DeleteRemovesEverywhere) {
  const std::string code = create({{"url", "https://example.com/gone"}})["code"];
  EXPECT_EQ(http(port(), "DELETE", "/api/links/" + code).status, 204);
  EXPECT_EQ(get("/api/links/" + code).status, 404);
  EXPECT_EQ(get("/" + code).status, 404);
  EXPECT_EQ(get("/qr/" + code + ".svg").status, 404);
  const auto twice = http(port(), "DELETE", "/api/links/" + code);
  EXPECT_EQ(twice.status, 404);
  EXPECT_EQ(error_code(twice), "not_found");
}

TEST_F(MonolithTest, RedirectsAndCountsTheClick) {
  const std::string code = create({{"url", "https://example.com/landing"}})["code"];
  const auto response = get("/" + code, {{"Referer", "https://News.example.org/post/1"},
                                         {"User-Agent", "TestBrowser/1.0"}});
  EXPECT_EQ(response.status, 302);
  EXPECT_EQ(response.header("Location"), "https://example.com/landing");
  EXPECT_TRUE(response.body.empty());
  get("/" + code);

  const auto stats = json::parse(get("/api/stats/" + code).body);
  EXPECT_EQ(stats["code"], code);
  EXPECT_EQ(stats["total"], 2);
  ASSERT_EQ(stats["days"].size(), 1u);
  EXPECT_EQ(stats["days"][0]["date"], common::format_day(clock_.now()));
  EXPECT_EQ(stats["days"][0]["clicks"], 2);
  EXPECT_EQ(stats["referrers"], json::parse(R"([{"name":"direct","clicks":1},
                                                {"name":"news.example.org","clicks":1}])"));
  EXPECT_EQ(stats["userAgents"][0]["name"], "TestBrowser/1.0");
}

TEST_F(MonolithTest, UnknownCodeIsAnHtml404) {
  const auto response = get("/nothere");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(response.body.find("Link not found"), std::string::npos);
  EXPECT_TRUE(response.header("Content-Security-Policy"));
}

TEST_F(MonolithTest, ExpiredLinkIs410ButStillListed) {
  const auto expires = common::format_rfc3339(clock_.now() + std::chrono::hours(1));
  const std::string code =
      create({{"url", "https://example.com/sale"}, {"expiresAt", expires}})["code"];
  EXPECT_EQ(get("/" + code).status, 302);
  clock_.advance(std::chrono::hours(2));
  const auto response = get("/" + code);
  EXPECT_EQ(response.status, 410);
  EXPECT_NE(response.body.find("expired"), std::string::npos);
  const auto link = json::parse(get("/api/links/" + code).body);
  EXPECT_EQ(link["expiresAt"], expires);
}

TEST_F(MonolithTest, StatsOfALinkWithoutClicksAndTopLinks) {
  const std::string quiet = create({{"url", "https://example.com/q"}})["code"];
  const std::string busy = create({{"url", "https://example.com/b"}})["code"];
  for (int i = 0; i < 3; ++i) get("/" + busy);
  const auto stats = json::parse(get("/api/stats/" + quiet).body);
  EXPECT_EQ(stats["total"], 0);
  EXPECT_TRUE(stats["days"].empty());
  EXPECT_EQ(get("/api/stats/unknown").status, 404);
  const auto top = json::parse(get("/api/stats/top?limit=1").body);
  ASSERT_EQ(top["items"].size(), 1u);
  EXPECT_EQ(top["items"][0]["code"], busy);
  EXPECT_EQ(top["items"][0]["clicks"], 3);
}

TEST_F(MonolithTest, QrCodesInSvgAndPng) {
  const std::string code = create({{"url", "https://example.com/qr"}})["code"];
  const auto svg = get("/qr/" + code + ".svg");
  EXPECT_EQ(svg.status, 200);
  EXPECT_EQ(svg.header("Content-Type"), "image/svg+xml");
  EXPECT_NE(svg.body.find("<svg"), std::string::npos);
  const auto png = get("/qr/" + code + ".png?scale=4");
  EXPECT_EQ(png.status, 200);
  EXPECT_EQ(png.header("Content-Type"), "image/png");
  EXPECT_EQ(png.body.substr(0, 8), "\x89PNG\r\n\x1a\n");
  EXPECT_LT(png.body.size(), get("/qr/" + code + ".png?scale=16").body.size());
  EXPECT_EQ(get("/qr/missing1.png").status, 404);
}

TEST_F(MonolithTest, WebUiWithRevalidation) {
  const auto page = get("/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
  // The page under its file name (every edge routes /index.html to the web service).
  const auto by_name = get("/index.html");
  EXPECT_EQ(by_name.status, 200);
  EXPECT_EQ(by_name.body, page.body);
  EXPECT_EQ(by_name.header("ETag"), page.header("ETag"));
  const auto csp = page.header("Content-Security-Policy").value_or("");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
  EXPECT_EQ(page.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(page.header("X-Frame-Options"), "DENY");
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(page.header("Referrer-Policy"), "no-referrer");
  const auto etag = page.header("ETag");
  ASSERT_TRUE(etag);
  const auto cached = get("/", {{"If-None-Match", *etag}});
  EXPECT_EQ(cached.status, 304);
  EXPECT_TRUE(cached.body.empty());
  const auto script = get("/static/app.js");
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(script.header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(get("/static/nope.js").status, 404);
}

TEST_F(MonolithTest, ApiKeyGuardsListingAndDeleting) {
  start("s3cret");
  const std::string code = create({{"url", "https://example.com/k"}})["code"];
  const auto denied = get("/api/links");
  EXPECT_EQ(denied.status, 401);
  EXPECT_EQ(error_code(denied), "unauthorized");
  EXPECT_EQ(get("/api/links", {{"Authorization", "Bearer wrong"}}).status, 401);
  // Prefixes, extensions, other case, empty, other schemes: all refused.
  for (const std::string key : {"s3cre", "s3cret2", "S3CRET", "", "s3cret ", "s"}) {
    EXPECT_EQ(get("/api/links", {{"X-API-Key", key}}).status, 401) << key;
    EXPECT_EQ(get("/api/links", {{"Authorization", "Bearer " + key}}).status, 401) << key;
  }
  EXPECT_EQ(get("/api/links", {{"Authorization", "Basic s3cret"}}).status, 401);
  EXPECT_EQ(get("/api/links", {{"Authorization", "Bearer s3cret"}}).status, 200);
  EXPECT_EQ(get("/api/links", {{"X-API-Key", "s3cret"}}).status, 200);
  EXPECT_EQ(http(port(), "DELETE", "/api/links/" + code).status, 401);
  EXPECT_EQ(http(port(), "DELETE", "/api/links/" + code, "", {{"X-API-Key", "s3cret"}}).status,
            204);
}

TEST_F(MonolithTest, HealthInfoAndDomainMetrics) {
  EXPECT_EQ(get("/health/live").status, 200);
  EXPECT_EQ(get("/health/ready").status, 200);
  EXPECT_EQ(json::parse(get("/info").body)["service"], "monolith");
  const std::string code = create({{"url", "https://example.com/m"}})["code"];
  get("/" + code);
  get("/qr/" + code + ".svg");
  const auto metrics = get("/metrics").body;
  EXPECT_NE(metrics.find(R"(kurz_links_created_total{code="generated"} 1)"), std::string::npos);
  EXPECT_NE(metrics.find(R"(kurz_redirects_total{result="found"} 1)"), std::string::npos);
  EXPECT_NE(metrics.find(R"(kurz_qr_rendered_total{format="svg"} 1)"), std::string::npos);
  EXPECT_NE(metrics.find(R"(route="/:code",status="302")"), std::string::npos);
}

}  // namespace
}  // namespace kurz::testing

namespace kurz::testing {
namespace {

TEST_F(MonolithTest, CreationIsRateLimitedPerClient) {
  start("", {3, std::chrono::minutes(1)});
  for (int i = 0; i < 3; ++i) create({{"url", "https://example.com/" + std::to_string(i)}});
  const auto refused = post_json("/api/links", R"({"url":"https://example.com/4"})");
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(error_code(refused), "rate_limited");
  const auto retry = std::stoi(refused.header("Retry-After").value_or("0"));
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 60);
  EXPECT_EQ(get("/api/links").status, 200);  // only creation is limited
  clock_.advance(std::chrono::seconds(retry));
  EXPECT_EQ(post_json("/api/links", R"({"url":"https://example.com/5"})").status, 201);
  EXPECT_NE(get("/metrics").body.find("kurz_links_rate_limited_total 1"), std::string::npos);
}

}  // namespace
}  // namespace kurz::testing

namespace kurz::testing {
namespace {

TEST_F(MonolithTest, TheApiKeyIsExemptFromTheCreationLimit) {
  // Seeding a load test through a shared balancer: every request comes from its address.
  start("s3cret", {2, std::chrono::minutes(1)});
  for (int i = 0; i < 5; ++i) {
    const auto body = R"({"url":"https://example.com/key-)" + std::to_string(i) + R"("})";
    EXPECT_EQ(post_json("/api/links", body,
                        {{"Content-Type", "application/json"}, {"Authorization", "Bearer s3cret"}})
                  .status,
              201)
        << i;
  }
  EXPECT_EQ(post_json("/api/links", R"({"url":"https://example.com/x1"})",
                      {{"Content-Type", "application/json"}, {"X-API-Key", "s3cret"}})
                .status,
            201);
  // Without the key, or with a wrong one, the limit holds (a wrong key is no 401 here: creating
  // needs no key).
  EXPECT_EQ(post_json("/api/links", R"({"url":"https://example.com/a"})").status, 201);
  EXPECT_EQ(post_json("/api/links", R"({"url":"https://example.com/b"})").status, 201);
  EXPECT_EQ(post_json("/api/links", R"({"url":"https://example.com/c"})").status, 429);
  EXPECT_EQ(post_json("/api/links", R"({"url":"https://example.com/d"})",
                      {{"Content-Type", "application/json"}, {"Authorization", "Bearer wrong"}})
                .status,
            429);
}

}  // namespace
}  // namespace kurz::testing
