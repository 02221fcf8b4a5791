// The answer's bytes, without sockets.
#include "wire.h"

#include <gtest/gtest.h>

namespace kurz::platform::wire {
namespace {

const Framing kKeep{"inst-1", "req-1", true, false};

TEST(Wire, StatusLineCommonHeadersAndBody) {
  EXPECT_EQ(answer(Reply::text(200, "hi"), kKeep),
            "HTTP/1.1 200 OK\r\n"
            "X-Instance-Id: inst-1\r\n"
            "X-Request-Id: req-1\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 2\r\n"
            "Connection: keep-alive\r\n\r\n"
            "hi");
}

TEST(Wire, RedirectHasLocationAndAZeroLength) {
  auto reply = Reply::redirect("https://example.com/a?b=c");
  reply.with_header("Cache-Control", "private, max-age=0");
  EXPECT_EQ(answer(reply, kKeep),
            "HTTP/1.1 302 Found\r\n"
            "X-Instance-Id: inst-1\r\n"
            "X-Request-Id: req-1\r\n"
            "Location: https://example.com/a?b=c\r\n"
            "Cache-Control: private, max-age=0\r\n"
            "Content-Length: 0\r\n"
            "Connection: keep-alive\r\n\r\n");
}

TEST(Wire, ReasonPhrases) {
  EXPECT_EQ(reason_phrase(201), "Created");
  EXPECT_EQ(reason_phrase(304), "Not Modified");
  EXPECT_EQ(reason_phrase(400), "Bad Request");
  EXPECT_EQ(reason_phrase(413), "Payload Too Large");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(501), "Not Implemented");
  EXPECT_EQ(reason_phrase(503), "Service Unavailable");
  // Unknown codes get their class's phrase.
  EXPECT_EQ(reason_phrase(299), "OK");
  EXPECT_EQ(reason_phrase(499), "Bad Request");
  EXPECT_EQ(reason_phrase(599), "Internal Server Error");
  EXPECT_EQ(answer(Reply::empty(418), kKeep).rfind("HTTP/1.1 418 Bad Request\r\n", 0), 0u);
}

TEST(Wire, CrLfAndNulInHeadersBecomeSpaces) {
  Reply reply = Reply::empty(200);
  reply.with_header("X-A", "one\r\nSet-Cookie: a=b");
  reply.with_header("X\nB", std::string("c\0d", 3));
  const auto text = answer(reply, Framing{"in\rst", "re\nq", true, false});
  EXPECT_NE(text.find("X-Instance-Id: in st\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("X-Request-Id: re q\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("X-A: one  Set-Cookie: a=b\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("X B: c d\r\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("\r\nSet-Cookie"), std::string::npos) << text;
  // Every CRLF in the head ends a line we wrote: the status line, six headers, the blank line.
  const auto head = text.substr(0, text.find("\r\n\r\n") + 4);
  std::size_t lines = 0;
  for (std::size_t at = head.find("\r\n"); at != std::string::npos; at = head.find("\r\n", at + 2))
    ++lines;
  EXPECT_EQ(lines, 8u) << head;
  EXPECT_EQ(text.find('\0'), std::string::npos);
}

TEST(Wire, NoContentAndNotModifiedCarryNeitherLengthNorBody) {
  for (const int status : {204, 304}) {
    Reply reply = Reply::text(status, "must not be sent");
    const auto text = answer(reply, kKeep);
    EXPECT_EQ(text.find("Content-Length"), std::string::npos) << text;
    EXPECT_EQ(text.find("must not"), std::string::npos) << text;
    EXPECT_EQ(text.substr(text.size() - 4), "\r\n\r\n");
  }
  EXPECT_FALSE(has_body(100));
  EXPECT_FALSE(has_body(204));
  EXPECT_FALSE(has_body(304));
  EXPECT_TRUE(has_body(200));
  EXPECT_TRUE(has_body(302));
  EXPECT_TRUE(has_body(404));
}

TEST(Wire, HeadGetsTheLengthOfItsGetButNoBody) {
  const auto text = answer(Reply::text(200, "hello"), Framing{"i", "r", true, true});
  EXPECT_NE(text.find("Content-Length: 5\r\n"), std::string::npos) << text;
  EXPECT_EQ(text.substr(text.size() - 4), "\r\n\r\n");
  EXPECT_EQ(text.find("hello"), std::string::npos);
}

TEST(Wire, KeepAliveOrClose) {
  const auto keep = answer(Reply::empty(200), kKeep);
  EXPECT_NE(keep.find("\r\nConnection: keep-alive\r\n\r\n"), std::string::npos);
  const auto close = answer(Reply::empty(200), Framing{"i", "r", false, false});
  EXPECT_NE(close.find("\r\nConnection: close\r\n\r\n"), std::string::npos);
  EXPECT_EQ(close.find("keep-alive"), std::string::npos);
}

TEST(Wire, RefusalShape) {
  const auto text =
      answer(Reply::error(431, "too_many_headers", "x"), Framing{"i", "r", false, false});
  EXPECT_EQ(text.rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0), 0u);
  EXPECT_NE(text.find("Content-Type: application/json\r\n"), std::string::npos);
  const std::string body = R"({"error":{"code":"too_many_headers","message":"x"}})";
  EXPECT_NE(text.find("Content-Length: " + std::to_string(body.size()) + "\r\n"),
            std::string::npos);
  EXPECT_EQ(text.substr(text.size() - body.size()), body);
}

TEST(Wire, AppendsAfterWhatIsThere) {
  std::string out = "earlier";
  append_answer(out, Reply::empty(200), kKeep);
  EXPECT_EQ(out.rfind("earlierHTTP/1.1 200 OK\r\n", 0), 0u);
}

}  // namespace
}  // namespace kurz::platform::wire
