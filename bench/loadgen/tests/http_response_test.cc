#include "http_response.h"

#include <gtest/gtest.h>

#include <string>

namespace kurz::load {
namespace {

using R = ResponseParser::Result;

TEST(ResponseParserTest, ContentLengthInPieces) {
  ResponseParser p(true);
  const std::string text =
      "HTTP/1.1 302 Found\r\nLocation: https://example.com/a\r\nX-Request-Id: kl1-2\r\n"
      "Content-Length: 5\r\n\r\nhello";
  for (size_t i = 0; i + 1 < text.size(); ++i) EXPECT_EQ(p.feed(&text[i], 1), R::kNeedMore) << i;
  EXPECT_EQ(p.feed(&text.back(), 1), R::kDone);
  EXPECT_EQ(p.status(), 302);
  EXPECT_EQ(p.location(), "https://example.com/a");
  EXPECT_EQ(p.request_id(), "kl1-2");
  EXPECT_EQ(p.body(), "hello");
  EXPECT_FALSE(p.close_after());
}

TEST(ResponseParserTest, TwoResponsesInOneRead) {
  ResponseParser p;
  const std::string text =
      "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 404 Not Found\r\nContent-Length: "
      "0\r\n\r\n";
  EXPECT_EQ(p.feed(text.data(), text.size()), R::kDone);
  EXPECT_EQ(p.status(), 200);
  p.next();
  EXPECT_EQ(p.feed("", 0), R::kDone);
  EXPECT_EQ(p.status(), 404);
  p.next();
  EXPECT_TRUE(p.empty());
}

TEST(ResponseParserTest, Chunked) {
  ResponseParser p(true);
  const std::string text =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\n"
      "Trailer: 1\r\n\r\n";
  EXPECT_EQ(p.feed(text.data(), text.size() - 1), R::kNeedMore);
  EXPECT_EQ(p.feed("\n", 1), R::kDone);
  EXPECT_EQ(p.body(), "Wikipedia");
}

TEST(ResponseParserTest, UntilCloseAndConnectionClose) {
  ResponseParser p(true);
  const std::string text = "HTTP/1.0 200 OK\r\n\r\nbody";
  EXPECT_EQ(p.feed(text.data(), text.size()), R::kNeedMore);
  EXPECT_EQ(p.finish(), R::kDone);
  EXPECT_EQ(p.body(), "body");
  EXPECT_TRUE(p.close_after());

  ResponseParser q;
  const std::string closing = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
  EXPECT_EQ(q.feed(closing.data(), closing.size()), R::kDone);
  EXPECT_TRUE(q.close_after());
}

TEST(ResponseParserTest, SkipsInterimResponses) {
  ResponseParser p;
  const std::string text =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(p.feed(text.data(), text.size()), R::kDone);
  EXPECT_EQ(p.status(), 201);
}

TEST(ResponseParserTest, Errors) {
  ResponseParser a;
  EXPECT_EQ(a.feed("SMTP ready\r\n\r\n", 14), R::kError);
  ResponseParser b;
  const std::string bad = "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n";
  EXPECT_EQ(b.feed(bad.data(), bad.size()), R::kError);
  ResponseParser c;
  const std::string cut = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
  EXPECT_EQ(c.feed(cut.data(), cut.size()), R::kNeedMore);
  EXPECT_EQ(c.finish(), R::kError);
  ResponseParser d;
  EXPECT_EQ(d.finish(), R::kError);
  EXPECT_EQ(d.error(), "connection closed before any response");
}

}  // namespace
}  // namespace kurz::load
