#include "codes.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "requests.h"

namespace kurz::load {
namespace {

class CodesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/kurz-codes-XXXXXX";
    const int fd = mkstemp(pattern);
    ASSERT_GE(fd, 0);
    close(fd);
    path_ = pattern;
  }
  void TearDown() override { unlink(path_.c_str()); }
  void write(const std::string& text) { std::ofstream(path_) << text; }
  std::string path_;
};

TEST_F(CodesTest, RoundTripInRankOrder) {
  const std::vector<Link> links = {{"abc", "https://example.com/1"}, {"x_Y-2", ""}};
  std::string error;
  ASSERT_TRUE(write_codes(path_, links, error)) << error;
  const auto read = read_codes(path_, error);
  ASSERT_TRUE(read) << error;
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0].code, "abc");
  EXPECT_EQ((*read)[0].target, "https://example.com/1");
  EXPECT_EQ((*read)[1].code, "x_Y-2");
  EXPECT_EQ((*read)[1].target, "");
}

TEST_F(CodesTest, CommentsBlankLinesAndCrlf) {
  write("# rank order\n\nfirst https://a.example/\r\nsecond\n");
  std::string error;
  const auto read = read_codes(path_, error);
  ASSERT_TRUE(read) << error;
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0].target, "https://a.example/");
}

TEST_F(CodesTest, BadFiles) {
  std::string error;
  write("");
  EXPECT_FALSE(read_codes(path_, error));
  EXPECT_NE(error.find("no codes"), std::string::npos);
  write("ok\nbad/code\n");
  EXPECT_FALSE(read_codes(path_, error));
  EXPECT_NE(error.find("line 2"), std::string::npos);
  write("a b c\n");
  EXPECT_FALSE(read_codes(path_, error));
  EXPECT_FALSE(read_codes("/nonexistent/codes", error));
  EXPECT_NE(error.find("cannot read"), std::string::npos);
}

TEST(RequestBuilderTest, TheRequestsOfTheMix) {
  std::string error;
  const auto url = BaseUrl::parse("http://127.0.0.1:8080/kurz", error);
  ASSERT_TRUE(url) << error;
  const RequestBuilder builder(*url, "run1");
  EXPECT_EQ(builder.for_kind(Kind::kRedirect, "abc", 1, 0),
            "GET /kurz/abc HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: kurz-load\r\n"
            "Accept: */*\r\n\r\n");
  EXPECT_EQ(builder.for_kind(Kind::kStats, "abc", 1, 0).substr(0, 30),
            "GET /kurz/api/stats/abc HTTP/1");
  EXPECT_EQ(builder.for_kind(Kind::kQr, "abc", 1, 0).substr(0, 24), "GET /kurz/qr/abc.svg HTT");
  EXPECT_EQ(builder.for_kind(Kind::kQr, "abc", 1, 1).substr(0, 24), "GET /kurz/qr/abc.png HTT");
  const std::string create = builder.for_kind(Kind::kCreate, "abc", 2, 7);
  const std::string body = "{\"url\":\"https://example.com/kurz-load/run1/2-7\"}";
  EXPECT_EQ(create.substr(0, 26), "POST /kurz/api/links HTTP/");
  EXPECT_NE(create.find("Content-Length: " + std::to_string(body.size()) + "\r\n"),
            std::string::npos);
  EXPECT_EQ(create.substr(create.size() - body.size()), body);
  EXPECT_NE(builder.unique_target(2, 7), builder.unique_target(2, 8));
  EXPECT_NE(builder.unique_target(1, 7), builder.unique_target(2, 7));
}

}  // namespace
}  // namespace kurz::load
