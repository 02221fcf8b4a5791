// The request framing guard on raw bytes: what passes, what is refused and with which status,
// fed whole and one byte at a time.
#include "request_guard.h"

#include <gtest/gtest.h>

#include <string>

namespace kurz::platform {
namespace {

// Feeds `bytes` whole, then byte by byte; both must agree. Returns the status (0: passed).
int verdict(const std::string& bytes, std::size_t* passed = nullptr) {
  RequestGuard whole;
  const auto v = whole.feed(bytes);
  RequestGuard bytewise;
  int status = 0;
  std::size_t pass = 0;
  for (std::size_t i = 0; i < bytes.size() && status == 0; ++i) {
    const auto b = bytewise.feed(std::string_view(bytes).substr(i, 1));
    status = b.status;
    pass += b.pass;
  }
  EXPECT_EQ(v.status, status) << bytes;
  if (v.status == 0) {
    EXPECT_EQ(v.pass, bytes.size());
    EXPECT_EQ(pass, bytes.size()) << bytes;
  }
  if (passed != nullptr) *passed = v.pass;
  return v.status;
}

const std::string kGet = "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n";

TEST(RequestGuardTest, PlainRequestsPipelinesAndBodiesPass) {
  EXPECT_EQ(verdict(kGet), 0);
  EXPECT_EQ(verdict(kGet + kGet + kGet), 0);
  EXPECT_EQ(verdict("\r\n" + kGet), 0);  // a stray CRLF before a request is allowed
  // Found by fuzzing (fuzz/regressions/request_guard/): CRLFs were dropped only when they came in
  // one read, so the same bytes got a different verdict split differently.
  // Unfinished, but its first line is a bare LF: no later byte can make it valid, so it is
  // refused at once, whole or byte by byte.
  EXPECT_EQ(verdict("\r\n\n\r\r\n"), 400);
  const std::string post =
      "POST /api/links HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n{\"url\":\"x\"}\n";
  EXPECT_EQ(verdict(post + kGet), 0);
  // A body that looks like a bad head is a body, not a head.
  EXPECT_EQ(
      verdict(std::string("POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\n\n\n") + '\0' + "\n" + kGet),
      0);
  EXPECT_EQ(verdict("GET / HTTP/1.1\r\nX-Tab:\tvalue\t\r\n\r\n"), 0);
}

// Found by fuzzing (fuzz/regressions/request_guard/split-after-many-fields-*): a bare LF was
// looked for in the whole unfinished head, so a head with too many fields before its bare LF got
// 400 byte by byte and 431 whole. The lines are now checked in order as they arrive.
TEST(RequestGuardTest, TheFirstProblemInLineOrderWinsHoweverTheBytesAreSplit) {
  std::string fields;
  for (int i = 0; i < 101; ++i) fields += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(verdict("GET / HTTP/1.1\r\n" + fields + "Bad: lf\n\r\n\r\n"), 431);
  EXPECT_EQ(verdict("GET / HTTP/1.1\r\nBad: lf\n" + fields + "\r\n"), 400);
  EXPECT_EQ(verdict("GET / HTTP/1.1\r\n" + fields + "Nul: a" + std::string(1, '\0') + "\r\n\r\n"),
            431);
}

TEST(RequestGuardTest, SmugglingFramingIsRefused) {
  EXPECT_EQ(verdict("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "0\r\n\r\n"),
            400);
  EXPECT_EQ(verdict("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 501);
  EXPECT_EQ(verdict("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
            400);
  EXPECT_EQ(verdict("POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\nhello"), 400);
  for (const std::string bad : {"-1", "+5", "5 5", "0x10", "", "1e3", "99999999999999999999"}) {
    EXPECT_EQ(verdict("POST / HTTP/1.1\r\nContent-Length: " + bad + "\r\n\r\n"), 400) << bad;
  }
  EXPECT_EQ(verdict("GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\nhello"), 400);
}

TEST(RequestGuardTest, HeaderTricksAreRefused) {
  EXPECT_EQ(verdict("GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n"), 400);   // obs-fold
  EXPECT_EQ(verdict("GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n"), 400);  // obs-fold, tab
  EXPECT_EQ(verdict("GET / HTTP/1.1\nHost: x\n\n"), 400);              // bare LF
  EXPECT_EQ(verdict("GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n"), 400);  // one bare LF
  EXPECT_EQ(verdict("GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n"), 400);  // bare CR
  EXPECT_EQ(verdict(std::string("GET / HTTP/1.1\r\nX-A: a") + '\0' + "b\r\n\r\n"), 400);  // NUL
  EXPECT_EQ(verdict("GET / HTTP/1.1\r\n: empty name\r\n\r\n"), 400);
  EXPECT_EQ(verdict("GET / HTTP/1.1\r\nno colon\r\n\r\n"), 400);
  std::string many = "GET / HTTP/1.1\r\n";
  for (std::size_t i = 0; i < kMaxHeaders; ++i) many += "X-" + std::to_string(i) + ": y\r\n";
  EXPECT_EQ(verdict(many + "\r\n"), 0);
  EXPECT_EQ(verdict(many + "X-One-Too-Many: y\r\n\r\n"), 431);
}

TEST(RequestGuardTest, RequestsBeforeABadOnePassAndNothingAfter) {
  std::size_t passed = 0;
  const std::string bad = "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n";
  EXPECT_EQ(verdict(kGet + bad + kGet, &passed), 400);
  EXPECT_EQ(passed, kGet.size());
  RequestGuard guard;
  EXPECT_EQ(guard.feed(bad).status, 400);
  EXPECT_NE(guard.feed(kGet).status, 0);  // refused for good
}

}  // namespace
}  // namespace kurz::platform
