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
  codes.reserve(5);
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

// Issue 20: the shortener at its edges.
using nlohmann::json;

TEST_F(MonolithTest, LocationIsAUriWhileTheApiShowsTheTargetAsEntered) {
  const std::string target =
      "https://b\xC3\xBC"
      "cher.example/stra\xC3\x9F"
      "e?q=\xC3\xBC&r=%C3%A4#s";
  const auto link = create({{"url", target}, {"slug", "buecher"}});
  EXPECT_EQ(link["url"], target);
  EXPECT_EQ(json::parse(get("/api/links/buecher").body)["url"], target);
  const auto redirect = get("/buecher");
  EXPECT_EQ(redirect.status, 302);
  EXPECT_EQ(redirect.header("Location"),
            "https://xn--bcher-kva.example/stra%C3%9Fe?q=%C3%BC&r=%C3%A4#s");
  // An ASCII target is sent byte for byte.
  create({{"url", "https://example.com/a%20b?c=d"}, {"slug", "ascii"}});
  EXPECT_EQ(get("/ascii").header("Location"), "https://example.com/a%20b?c=d");
  // A host that has no A-label is refused at create time, naming the field.
  const auto refused = post_json("/api/links", R"({"url":"https://a\u2603b.example/"})");
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(error_code(refused), "invalid_url");
  EXPECT_NE(refused.body.find("host"), std::string::npos) << refused.body;
}

TEST_F(MonolithTest, UnknownFieldsAreRefusedByName) {
  const auto typo = post_json("/api/links", R"({"url":"https://example.com/","slg":"typo"})");
  EXPECT_EQ(typo.status, 400);
  EXPECT_EQ(error_code(typo), "unknown_field");
  EXPECT_NE(typo.body.find("'slg' is not a field"), std::string::npos) << typo.body;
  EXPECT_NE(typo.body.find("url, slug, expiresAt"), std::string::npos) << typo.body;
  // Nothing was created.
  EXPECT_EQ(json::parse(get("/api/links").body)["items"].size(), 0U);
  const auto alone = post_json("/api/links", R"({"URL":"https://example.com/"})");
  EXPECT_EQ(error_code(alone), "unknown_field");  // field names are case-sensitive too
  // Known fields set to null are still fine.
  EXPECT_EQ(
      post_json("/api/links", R"({"url":"https://example.com/","slug":null,"expiresAt":null})")
          .status,
      201);
}

TEST_F(MonolithTest, AnExpiredLinkIsExpiredEverywhere) {
  const auto expires = common::format_rfc3339(clock_.now() + std::chrono::hours(1));
  create({{"url", "https://example.com/sale"}, {"slug", "sale"}, {"expiresAt", expires}});
  create({{"url", "https://example.com/keep"}, {"slug", "keep"}});
  EXPECT_EQ(json::parse(get("/api/links/sale").body)["expired"], false);
  EXPECT_EQ(get("/qr/sale.svg").status, 200);
  clock_.advance(std::chrono::hours(1));  // expiresAt is inclusive
  EXPECT_EQ(get("/sale").status, 410);
  for (const std::string path : {"/qr/sale.svg", "/qr/sale.png", "/qr/sale.png?scale=2"}) {
    const auto qr = get(path);
    EXPECT_EQ(qr.status, 410) << path;
    EXPECT_EQ(error_code(qr), "gone") << path;
  }
  EXPECT_EQ(get("/qr/keep.svg").status, 200);
  const auto link = json::parse(get("/api/links/sale").body);
  EXPECT_EQ(link["expired"], true);
  EXPECT_EQ(link["expiresAt"], expires);
  const auto items = json::parse(get("/api/links").body)["items"];
  ASSERT_EQ(items.size(), 2U);
  EXPECT_EQ(items[0]["code"], "keep");
  EXPECT_EQ(items[0]["expired"], false);
  EXPECT_EQ(items[1]["code"], "sale");
  EXPECT_EQ(items[1]["expired"], true);
}

TEST_F(MonolithTest, TheRateLimitCountsEveryCreateAttempt) {
  start("", {4, std::chrono::minutes(1)});
  create({{"url", "https://example.com/"}, {"slug", "taken"}});
  EXPECT_EQ(post_json("/api/links", R"j({"url":"javascript:alert(1)"})j").status, 400);
  EXPECT_EQ(post_json("/api/links", R"({"url":"https://example.com/","slug":"taken"})").status,
            409);
  EXPECT_EQ(post_json("/api/links", "url=x", {{"Content-Type", "text/plain"}}).status, 415);
  // Four attempts, one of them successful: the budget is spent.
  const auto refused = post_json("/api/links", R"({"url":"https://example.com/ok"})");
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(error_code(refused), "rate_limited");
  EXPECT_NE(refused.body.find("attempts"), std::string::npos) << refused.body;
  clock_.advance(std::chrono::minutes(1));
  EXPECT_EQ(post_json("/api/links", R"({"url":"https://example.com/ok"})").status, 201);
}

TEST_F(MonolithTest, SlugsAreCaseSensitive) {
  create({{"url", "https://mesos.apache.org/"}, {"slug", "Mesos"}});
  create({{"url", "https://example.com/lower"}, {"slug", "mesos"}});
  EXPECT_EQ(get("/Mesos").header("Location"), "https://mesos.apache.org/");
  EXPECT_EQ(get("/mesos").header("Location"), "https://example.com/lower");
  EXPECT_EQ(get("/MESOS").status, 404);
  EXPECT_EQ(get("/api/links/MESOS").status, 404);
  const auto taken = post_json("/api/links", R"({"url":"https://example.com/","slug":"Mesos"})");
  EXPECT_EQ(taken.status, 409);
  EXPECT_NE(taken.body.find("case-sensitive"), std::string::npos) << taken.body;
  const auto bad = post_json("/api/links", R"({"url":"https://example.com/","slug":"M\u00e9sos"})");
  EXPECT_EQ(error_code(bad), "invalid_slug");
  EXPECT_NE(bad.body.find("case-sensitive"), std::string::npos) << bad.body;
  // Reserved words are refused in any case: /API is not a link either.
  const auto reserved = post_json("/api/links", R"({"url":"https://example.com/","slug":"API"})");
  EXPECT_EQ(error_code(reserved), "slug_reserved");
}

}  // namespace
}  // namespace kurz::testing
