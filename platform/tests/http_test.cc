#include "kurz/platform/http.h"

#include <gtest/gtest.h>

#include <map>

namespace kurz::platform {
namespace {

class MapHeaders : public HeaderSource {
 public:
  std::optional<std::string> get(std::string_view) const override { return std::nullopt; }
};

TEST(HttpTest, PercentDecode) {
  EXPECT_EQ(percent_decode("a%20b+c", true), "a b c");
  EXPECT_EQ(percent_decode("a%20b+c", false), "a b+c");
  EXPECT_EQ(percent_decode("%41%4a%4A", false), "AJJ");
  EXPECT_EQ(percent_decode("%", false), std::nullopt);
  EXPECT_EQ(percent_decode("%4", false), std::nullopt);
  EXPECT_EQ(percent_decode("%g0", false), std::nullopt);
}

TEST(HttpTest, QueryParameters) {
  const MapHeaders headers;
  const Request request(Method::Get, "/x", "limit=10&cursor=a%2Bb&empty=&flag&bad=%zz", "", headers,
                        "127.0.0.1", "id");
  EXPECT_EQ(request.query("limit"), "10");
  EXPECT_EQ(request.query("cursor"), "a+b");
  EXPECT_EQ(request.query("empty"), "");
  EXPECT_EQ(request.query("flag"), "");
  EXPECT_EQ(request.query("bad"), "%zz");
  EXPECT_EQ(request.query("missing"), std::nullopt);
}

TEST(HttpTest, ErrorShapeIsEscapedJson) {
  const auto reply = Reply::error(400, "invalid_url", "bad \"url\"\n\x01");
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.content_type, "application/json");
  EXPECT_EQ(reply.body, R"({"error":{"code":"invalid_url","message":"bad \"url\"\n\u0001"}})");
}

TEST(HttpTest, JsonEscapingReplacesInvalidUtf8) {
  std::string out;
  append_json_escaped(out, "ok \xc3\xa9 \xff \xed\xa0\x80 \xf0\x9f\x98\x80");
  EXPECT_EQ(out, "ok \xc3\xa9 \\ufffd \\ufffd\\ufffd\\ufffd \xf0\x9f\x98\x80");
}

TEST(HttpTest, FindHeaderIgnoresCase) {
  auto reply = Reply::redirect("https://example.com/");
  EXPECT_EQ(reply.status, 302);
  ASSERT_NE(reply.find_header("location"), nullptr);
  EXPECT_EQ(*reply.find_header("LOCATION"), "https://example.com/");
}

}  // namespace
}  // namespace kurz::platform
