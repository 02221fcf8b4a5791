#include "kurz/redirect/redirector.h"

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "kurz/common/utf8.h"
#include "kurz/links/memory_link_store.h"

namespace kurz::redirect {
namespace {

using namespace std::chrono_literals;
using common::ErrorKind;
using common::TimePoint;

const TimePoint kStart = TimePoint{} + std::chrono::seconds(1795476426);

class RecordingSink final : public common::ClickSink {
 public:
  void record(common::ClickEvent event) override {
    std::lock_guard lock(mutex_);
    events.push_back(std::move(event));
  }
  std::mutex mutex_;
  std::vector<common::ClickEvent> events;
};

class RedirectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_.insert({"abc", "https://example.com/a", kStart, std::nullopt}));
    ASSERT_TRUE(store_.insert({"soon", "https://example.com/s", kStart, kStart + 1h}));
  }
  links::MemoryLinkStore store_;
  RecordingSink sink_;
  common::ManualClock clock_{kStart + 5min};
  Redirector redirector_{store_, sink_, clock_};
};

TEST_F(RedirectorTest, ResolvesAndRecordsAClick) {
  auto url = redirector_.resolve("abc", "https://news.example/item", "curl/8.0");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url.value(), "https://example.com/a");
  ASSERT_EQ(sink_.events.size(), 1U);
  EXPECT_EQ(sink_.events[0].at, kStart + 5min);
  EXPECT_EQ(sink_.events[0].code, "abc");
  EXPECT_EQ(sink_.events[0].referrer, "https://news.example/item");
  EXPECT_EQ(sink_.events[0].user_agent, "curl/8.0");
}

TEST_F(RedirectorTest, UnknownCodesAreNotFoundAndNotRecorded) {
  for (const std::string& code : {std::string("zzz"), std::string("ABC"), std::string(""),
                                  std::string("a/b"), std::string(1000, 'a')}) {
    auto url = redirector_.resolve(code, "", "");
    ASSERT_FALSE(url.ok());
    EXPECT_EQ(url.error().kind, ErrorKind::NotFound);
    EXPECT_EQ(url.error().code, "not_found");
  }
  EXPECT_TRUE(sink_.events.empty());
}

TEST_F(RedirectorTest, ExpiredLinksAreGone) {
  EXPECT_TRUE(redirector_.resolve("soon", "", "").ok());
  clock_.set(kStart + 1h - 1ms);
  EXPECT_TRUE(redirector_.resolve("soon", "", "").ok());
  clock_.set(kStart + 1h);
  auto url = redirector_.resolve("soon", "", "");
  ASSERT_FALSE(url.ok());
  EXPECT_EQ(url.error().kind, ErrorKind::Gone);
  EXPECT_EQ(url.error().code, "gone");
  EXPECT_EQ(url.error().message, "this link has expired");
  EXPECT_EQ(sink_.events.size(), 2U);
}

TEST_F(RedirectorTest, DeletedLinksAreNotFound) {
  ASSERT_TRUE(store_.remove("abc"));
  EXPECT_EQ(redirector_.resolve("abc", "", "").error().kind, ErrorKind::NotFound);
}

TEST_F(RedirectorTest, BoundsAndSanitizesHeaderValues) {
  std::string long_referrer = "https://example.com/" + std::string(600, 'r');
  std::string euro_agent = std::string(511, 'u') + "\xE2\x82\xAC";  // € straddles byte 512
  ASSERT_TRUE(redirector_.resolve("abc", long_referrer, euro_agent).ok());
  ASSERT_TRUE(redirector_.resolve("abc", "bad\xFF", "").ok());
  ASSERT_EQ(sink_.events.size(), 2U);
  EXPECT_EQ(sink_.events[0].referrer.size(), kMaxReferrerBytes);
  EXPECT_EQ(sink_.events[0].user_agent, std::string(511, 'u'));
  EXPECT_TRUE(common::is_valid_utf8(sink_.events[1].referrer));
  EXPECT_EQ(sink_.events[1].user_agent, "");
}

TEST_F(RedirectorTest, StoredTargetsThatAreNotHttpUrlsNeverReachLocation) {
  // Written past the API (another tool, an old rule, a tampered Redis): checked again here.
  const std::vector<std::string> hostile = {"http://example.com/\r\nSet-Cookie: a=b",
                                            "http://example.com/\nX: y",
                                            std::string("http://example.com/\0x", 20),
                                            "javascript:alert(1)",
                                            "JAVASCRIPT:alert(1)",
                                            "data:text/html,<script>",
                                            "//evil.example/",
                                            "http:evil.example",
                                            "/relative",
                                            "https://",
                                            "http://exa mple.com/",
                                            "http://example.com/\xE2\x80\xAE"};
  int i = 0;
  for (const auto& url : hostile) {
    const std::string code = "bad" + std::to_string(i++);
    ASSERT_TRUE(store_.insert({code, url, kStart, std::nullopt}));
    const auto target = redirector_.resolve(code, "", "");
    ASSERT_FALSE(target.ok()) << url;
    EXPECT_EQ(target.error().kind, ErrorKind::Internal) << url;
    EXPECT_EQ(target.error().code, "invalid_target");
  }
  EXPECT_TRUE(sink_.events.empty());
}

// A reader that hands out links as stored (like Redis without the cache): nothing prepared.
class RawReader final : public links::LinkReader {
 public:
  common::Result<std::optional<links::Link>> find(std::string_view code) const override {
    return std::optional<links::Link>(links::Link{std::string(code),
                                                  "https://b\xC3\xBC"
                                                  "cher.example/\xE2\x82\xAC?q=%zz",
                                                  kStart, std::nullopt});
  }
};

TEST_F(RedirectorTest, LocationIsAUriWhetherOrNotTheReaderPreparedTheLink) {
  const std::string want = "https://xn--bcher-kva.example/%E2%82%AC?q=%25zz";
  ASSERT_TRUE(store_.insert({"idn",
                             "https://b\xC3\xBC"
                             "cher.example/\xE2\x82\xAC?q=%zz",
                             kStart, std::nullopt}));
  EXPECT_EQ(redirector_.resolve("idn", "", "").value(), want);  // prepared on insert
  EXPECT_EQ(redirector_.resolve("abc", "", "").value(), "https://example.com/a");
  const RawReader raw;
  Redirector unprepared{raw, sink_, clock_};
  EXPECT_EQ(unprepared.resolve("idn", "", "").value(), want);  // prepared here, per visit
}

}  // namespace
}  // namespace kurz::redirect
