#include "kurz/links/cached_link_reader.h"

#include <gtest/gtest.h>

#include "kurz/links/memory_link_store.h"

namespace kurz::links {
namespace {

using namespace std::chrono_literals;

// A store that can be switched off, to play an unreachable Redis.
class SwitchableStore final : public LinkReader {
 public:
  explicit SwitchableStore(const LinkReader& inner) : inner_(inner) {}
  common::Result<std::optional<Link>> find(std::string_view code) const override {
    ++reads;
    if (!up) return common::Error{common::ErrorKind::Unavailable, "unavailable", "down"};
    return inner_.find(code);
  }
  bool up = true;
  mutable int reads = 0;

 private:
  const LinkReader& inner_;
};

class CachedLinkReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_.insert(Link{"abc", "https://example.com/", clock_.now(), {}}).value());
  }
  common::ManualClock clock_{common::TimePoint(std::chrono::hours(500000))};
  MemoryLinkStore store_;
  SwitchableStore switchable_{store_};
  CachedLinkReader cache_{switchable_, clock_, 30s, 100};
};

TEST_F(CachedLinkReaderTest, HitsWithinTtlThenRefreshes) {
  EXPECT_TRUE(cache_.find("abc").value());
  EXPECT_TRUE(cache_.find("abc").value());
  EXPECT_EQ(switchable_.reads, 1);
  EXPECT_EQ(cache_.hits(), 1u);
  clock_.advance(31s);
  EXPECT_TRUE(cache_.find("abc").value());
  EXPECT_EQ(switchable_.reads, 2);
}

TEST_F(CachedLinkReaderTest, DeleteTakesEffectWithinTheTtl) {
  EXPECT_TRUE(cache_.find("abc").value());
  ASSERT_TRUE(store_.remove("abc").value());
  EXPECT_TRUE(cache_.find("abc").value());  // still cached
  clock_.advance(30s);
  EXPECT_FALSE(cache_.find("abc").value());
}

TEST_F(CachedLinkReaderTest, MissesAreNotCached) {
  EXPECT_FALSE(cache_.find("new").value());
  ASSERT_TRUE(store_.insert(Link{"new", "https://example.com/n", clock_.now(), {}}).value());
  EXPECT_TRUE(cache_.find("new").value());
}

TEST_F(CachedLinkReaderTest, ServesStaleLinksWhileTheStoreIsDown) {
  EXPECT_TRUE(cache_.find("abc").value());
  switchable_.up = false;
  clock_.advance(5min);
  const auto found = cache_.find("abc");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found.value()->url, "https://example.com/");
  EXPECT_EQ(cache_.stale_served(), 1u);
  EXPECT_FALSE(cache_.find("other").ok());
}

TEST_F(CachedLinkReaderTest, StaysWithinCapacity) {
  CachedLinkReader small(store_, clock_, 30s, 3);
  for (int i = 0; i < 10; ++i) {
    const std::string code = "c" + std::to_string(i) + "x";
    ASSERT_TRUE(store_.insert(Link{code, "https://example.com/", clock_.now(), {}}).value());
    EXPECT_TRUE(small.find(code).value());
  }
  EXPECT_EQ(small.misses(), 10u);
  EXPECT_TRUE(small.find("c9x").value());
  EXPECT_EQ(small.hits(), 1u);
}

}  // namespace
}  // namespace kurz::links

namespace kurz::links {
namespace {

// A store that never checks what it holds (as Redis, written by anything).
class UncheckedStore final : public LinkReader {
 public:
  common::Result<std::optional<Link>> find(std::string_view code) const override {
    const std::string url = code == "good" ? "https://example.com/ok" : "javascript:alert(1)";
    return std::optional<Link>(Link{std::string(code), url, common::TimePoint{}, {}});
  }
};

TEST(CachedLinkReaderTargets, TheTargetIsCheckedAsTheLinkEntersTheCache) {
  const UncheckedStore store;
  common::ManualClock clock{common::TimePoint(std::chrono::hours(500000))};
  CachedLinkReader cache{store, clock, std::chrono::seconds(30), 10};
  for (int visit = 0; visit < 2; ++visit) {  // the miss, then the hit
    EXPECT_TRUE(cache.find("good").value()->target_valid) << visit;
    EXPECT_FALSE(cache.find("bad").value()->target_valid) << visit;
  }
  EXPECT_FALSE(store.find("good").value()->target_valid);
}

// A store that hands out an internationalised target as stored (like Redis).
class IdnStore final : public LinkReader {
 public:
  common::Result<std::optional<Link>> find(std::string_view code) const override {
    return std::optional<Link>(Link{std::string(code),
                                    "https://b\xC3\xBC"
                                    "cher.example/\xC3\xBC",
                                    common::TimePoint{},
                                    {}});
  }
};

TEST(CachedLinkReaderTargets, TheLocationIsEncodedOnceAsTheLinkEntersTheCache) {
  const IdnStore store;
  common::ManualClock clock{common::TimePoint(std::chrono::hours(500000))};
  CachedLinkReader cache{store, clock, std::chrono::seconds(30), 10};
  for (int visit = 0; visit < 2; ++visit) {  // the miss, then the hit
    const auto link = cache.find("idn").value();
    EXPECT_EQ(link->url,
              "https://b\xC3\xBC"
              "cher.example/\xC3\xBC")
        << visit;
    EXPECT_EQ(link->location, "https://xn--bcher-kva.example/%C3%BC") << visit;
  }
  EXPECT_EQ(cache.misses(), 1U);
  EXPECT_TRUE(store.find("idn").value()->location.empty());
}

TEST(MemoryLinkStoreTargets, TheTargetIsCheckedOnInsert) {
  MemoryLinkStore store;
  ASSERT_TRUE(store.insert(Link{"good", "https://example.com/", common::TimePoint{}, {}}).value());
  ASSERT_TRUE(store.insert(Link{"bad", "ftp://example.com/", common::TimePoint{}, {}}).value());
  EXPECT_TRUE(store.find("good").value()->target_valid);
  EXPECT_FALSE(store.find("bad").value()->target_valid);
}

}  // namespace
}  // namespace kurz::links
