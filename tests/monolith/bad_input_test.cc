// The catalogue of bad input: every case gets a clear 4xx in the API's error shape, and the
// process is alive afterwards. A crash or a 500 on bad input is a bug.
#include "monolith_fixture.h"

namespace kurz::testing {
namespace {

struct BadCase {
  std::string name;
  std::string method;
  std::string target;
  std::string body;
  Headers headers;
  int status;
  std::string code;  // the error code expected in the JSON body
};

const Headers kJson = {{"Content-Type", "application/json"}};

std::vector<BadCase> catalogue() {
  std::vector<BadCase> cases = {
      // Malformed JSON and wrong shapes.
      {"truncated json", "POST", "/api/links", R"({"url": )", kJson, 400, "invalid_json"},
      {"trailing garbage", "POST", "/api/links", R"({"url":"https://a.example"} x)", kJson, 400,
       "invalid_json"},
      {"empty body", "POST", "/api/links", "", kJson, 400, "invalid_json"},
      {"array", "POST", "/api/links", "[1,2]", kJson, 400, "invalid_request"},
      {"string", "POST", "/api/links", R"("https://a.example")", kJson, 400, "invalid_request"},
      {"null", "POST", "/api/links", "null", kJson, 400, "invalid_request"},
      {"deep nesting", "POST", "/api/links", std::string(5000, '[') + std::string(5000, ']'), kJson,
       400, "invalid_request"},
      // Wrong types and missing fields.
      {"missing url", "POST", "/api/links", "{}", kJson, 400, "invalid_request"},
      {"null url", "POST", "/api/links", R"({"url":null})", kJson, 400, "invalid_request"},
      {"number url", "POST", "/api/links", R"({"url":42})", kJson, 400, "invalid_request"},
      {"array url", "POST", "/api/links", R"({"url":["https://a.example"]})", kJson, 400,
       "invalid_request"},
      {"number slug", "POST", "/api/links", R"({"url":"https://a.example","slug":5})", kJson, 400,
       "invalid_request"},
      {"object expiry", "POST", "/api/links", R"({"url":"https://a.example","expiresAt":{}})",
       kJson, 400, "invalid_request"},
      {"prose expiry", "POST", "/api/links",
       R"({"url":"https://a.example","expiresAt":"tomorrow"})", kJson, 400, "invalid_expiry"},
      {"past expiry", "POST", "/api/links",
       R"({"url":"https://a.example","expiresAt":"2001-01-01T00:00:00Z"})", kJson, 400,
       "invalid_expiry"},
      {"feb 30 expiry", "POST", "/api/links",
       R"({"url":"https://a.example","expiresAt":"2031-02-30T00:00:00Z"})", kJson, 400,
       "invalid_expiry"},
      // Media types and encodings.
      {"no content type",
       "POST",
       "/api/links",
       R"({"url":"https://a.example"})",
       {},
       415,
       "unsupported_media_type"},
      {"text/plain",
       "POST",
       "/api/links",
       R"({"url":"https://a.example"})",
       {{"Content-Type", "text/plain"}},
       415,
       "unsupported_media_type"},
      {"form encoded",
       "POST",
       "/api/links",
       "url=https://a.example",
       {{"Content-Type", "application/x-www-form-urlencoded"}},
       415,
       "unsupported_media_type"},
      {"invalid utf-8", "POST", "/api/links", "{\"url\":\"https://a.example/\xff\xfe\"}", kJson,
       400, "invalid_json"},
      {"overlong utf-8", "POST", "/api/links", "{\"url\":\"https://a.example/\xc0\xaf\"}", kJson,
       400, "invalid_json"},
      // Hostile URLs.
      {"javascript", "POST", "/api/links", R"j({"url":"javascript:alert(1)"})j", kJson, 400,
       "invalid_url"},
      {"JaVaScRiPt", "POST", "/api/links", R"j({"url":"JaVaScRiPt:alert(document.cookie)"})j",
       kJson, 400, "invalid_url"},
      {"data", "POST", "/api/links", R"j({"url":"data:text/html,<script>alert(1)</script>"})j",
       kJson, 400, "invalid_url"},
      {"vbscript", "POST", "/api/links", R"j({"url":"vbscript:msgbox(1)"})j", kJson, 400,
       "invalid_url"},
      {"file", "POST", "/api/links", R"({"url":"file:///etc/passwd"})", kJson, 400, "invalid_url"},
      {"scheme-relative", "POST", "/api/links", R"({"url":"//evil.example/"})", kJson, 400,
       "invalid_url"},
      {"no host", "POST", "/api/links", R"({"url":"http:///path"})", kJson, 400, "invalid_url"},
      {"space in host", "POST", "/api/links", R"({"url":"https://exa mple.com/"})", kJson, 400,
       "invalid_url"},
      {"nul byte", "POST", "/api/links", R"({"url":"https://a.example/\u0000x"})", kJson, 400,
       "invalid_url"},
      {"newline", "POST", "/api/links", R"({"url":"https://a.example/\r\nSet-Cookie: x=1"})", kJson,
       400, "invalid_url"},
      {"bad port", "POST", "/api/links", R"({"url":"https://a.example:99999/"})", kJson, 400,
       "invalid_url"},
      {"too long", "POST", "/api/links",
       R"({"url":"https://a.example/)" + std::string(2100, 'a') + R"("})", kJson, 400,
       "invalid_url"},
      // Unknown members: a typo is named, never ignored.
      {"misspelt slug", "POST", "/api/links", R"({"url":"https://a.example","slg":"typo"})", kJson,
       400, "unknown_field"},
      {"misspelt expiry", "POST", "/api/links",
       R"({"url":"https://a.example","expires_at":"2031-01-01T00:00:00Z"})", kJson, 400,
       "unknown_field"},
      {"empty member name", "POST", "/api/links", R"({"url":"https://a.example","":1})", kJson, 400,
       "unknown_field"},
      {"odd member name", "POST", "/api/links", R"({"url":"https://a.example","\u0000\n":1})",
       kJson, 400, "unknown_field"},
      // Internationalised hosts IDNA cannot convert.
      {"symbol host", "POST", "/api/links", R"({"url":"https://a\u2603b.example/"})", kJson, 400,
       "invalid_url"},
      {"double hyphen idn", "POST", "/api/links", R"({"url":"https://ab--c.\u00fc/"})", kJson, 400,
       "invalid_url"},
      // Slugs.
      {"reserved slug", "POST", "/api/links", R"({"url":"https://a.example","slug":"api"})", kJson,
       400, "slug_reserved"},
      {"reserved slug case", "POST", "/api/links", R"({"url":"https://a.example","slug":"HEALTH"})",
       kJson, 400, "slug_reserved"},
      {"slash slug", "POST", "/api/links", R"({"url":"https://a.example","slug":"a/b"})", kJson,
       400, "invalid_slug"},
      {"dot slug", "POST", "/api/links", R"({"url":"https://a.example","slug":"../etc"})", kJson,
       400, "invalid_slug"},
      {"markup slug", "POST", "/api/links", R"({"url":"https://a.example","slug":"<script>"})",
       kJson, 400, "invalid_slug"},
      {"short slug", "POST", "/api/links", R"({"url":"https://a.example","slug":"ab"})", kJson, 400,
       "invalid_slug"},
      {"long slug", "POST", "/api/links",
       R"({"url":"https://a.example","slug":")" + std::string(65, 'a') + R"("})", kJson, 400,
       "invalid_slug"},
      {"unicode slug", "POST", "/api/links", R"({"url":"https://a.example","slug":"h\u00e9llo"})",
       kJson, 400, "invalid_slug"},
      // Path tricks.
      {"encoded traversal", "GET", "/api/links/..%2F..%2Fetc%2Fpasswd", "", {}, 404, "not_found"},
      {"static traversal", "GET", "/static/..%2Findex.html", "", {}, 404, "not_found"},
      {"double slash", "GET", "//api/links", "", {}, 404, "not_found"},
      {"trailing slash", "GET", "/api/links/", "", {}, 404, "not_found"},
      {"nul in path", "GET", "/api/links/%00", "", {}, 404, "not_found"},
      {"broken escape", "GET", "/api/links/%zz", "", {}, 404, "not_found"},
      {"qr traversal", "GET", "/qr/..%2Fx.svg", "", {}, 404, "not_found"},
      {"qr unknown format", "GET", "/qr/abc.gif", "", {}, 404, "not_found"},
      {"deep path", "GET", "/a/b/c/d/e/f", "", {}, 404, "not_found"},
      // Odd query values.
      {"limit zero", "GET", "/api/links?limit=0", "", {}, 400, "invalid_parameter"},
      {"limit too big", "GET", "/api/links?limit=101", "", {}, 400, "invalid_parameter"},
      {"limit negative", "GET", "/api/links?limit=-1", "", {}, 400, "invalid_parameter"},
      {"limit words", "GET", "/api/links?limit=ten", "", {}, 400, "invalid_parameter"},
      {"limit float", "GET", "/api/links?limit=1e3", "", {}, 400, "invalid_parameter"},
      {"limit empty", "GET", "/api/links?limit=", "", {}, 400, "invalid_parameter"},
      {"limit huge",
       "GET",
       "/api/links?limit=99999999999999999999999",
       "",
       {},
       400,
       "invalid_parameter"},
      {"limit broken escape", "GET", "/api/links?limit=%zz", "", {}, 400, "invalid_parameter"},
      {"cursor garbage", "GET", "/api/links?cursor=%3Cscript%3E", "", {}, 400, "invalid_cursor"},
      {"top limit", "GET", "/api/stats/top?limit=1000", "", {}, 400, "invalid_parameter"},
      {"qr scale", "GET", "/qr/abcdefg.png?scale=33", "", {}, 400, "invalid_parameter"},
      {"qr scale words", "GET", "/qr/abcdefg.png?scale=big", "", {}, 400, "invalid_parameter"},
      // Wrong methods.
      {"put links", "PUT", "/api/links", "{}", kJson, 405, "method_not_allowed"},
      {"post link", "POST", "/api/links/abc", "{}", kJson, 405, "method_not_allowed"},
      {"patch top", "PATCH", "/api/stats/top", "", {}, 405, "method_not_allowed"},
      {"delete root", "DELETE", "/", "", {}, 405, "method_not_allowed"},
      {"post health", "POST", "/health/live", "", {}, 405, "method_not_allowed"},
      {"post metrics", "POST", "/metrics", "", {}, 405, "method_not_allowed"},
      // Size.
      {"oversized body", "POST", "/api/links",
       R"({"url":"https://a.example/","pad":")" + std::string(20000, 'x') + R"("})", kJson, 413,
       "payload_too_large"},
  };
  return cases;
}

TEST_F(MonolithTest, EveryBadInputGetsAClear4xx) {
  for (const auto& bad : catalogue()) {
    SCOPED_TRACE(bad.name);
    HttpResponse response;
    try {
      response = http(port(), bad.method, bad.target, bad.body, bad.headers);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "no answer: " << e.what();
      continue;
    }
    EXPECT_EQ(response.status, bad.status) << response.body;
    EXPECT_EQ(error_code(response), bad.code) << response.body;
    const auto body = nlohmann::json::parse(response.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << response.body;
    EXPECT_FALSE(body["error"].value("message", "").empty());
    if (bad.status == 405) {
      EXPECT_TRUE(response.header("Allow"));
    }
  }
  EXPECT_EQ(get("/health/live").status, 200);
  EXPECT_EQ(create({{"url", "https://example.com/after"}})["url"], "https://example.com/after");
}

TEST_F(MonolithTest, MalformedRequestLinesDoNotKillTheServer) {
  for (const char* raw :
       {"GARBAGE\r\n\r\n", "GET\r\n\r\n", "GET / HTTP/9.9\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: -5\r\n\r\n", "GET / HTTP/1.1\r\nNoColonHeader\r\n\r\n",
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"}) {
    try {
      HttpConnection connection(port(), std::chrono::milliseconds(1000));
      connection.send_raw(raw);
      connection.read_response();
    } catch (const std::exception&) {
      // Closing or not answering garbage is fine; staying alive is what matters.
    }
  }
  EXPECT_EQ(get("/health/live").status, 200);
}

}  // namespace
}  // namespace kurz::testing
