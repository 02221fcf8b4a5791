#include "kurz/links/memory_link_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace kurz::links {
namespace {

Link make_link(std::string code) {
  return Link{std::move(code), "https://example.com/", TimePoint{}, std::nullopt};
}

std::vector<std::string> codes_of(const LinkPage& page) {
  std::vector<std::string> codes;
  for (const Link& link : page.items) codes.push_back(link.code);
  return codes;
}

TEST(MemoryLinkStoreTest, NextIdIsUniqueAndIncreasing) {
  MemoryLinkStore store;
  EXPECT_EQ(store.next_id().value(), 1U);
  EXPECT_EQ(store.next_id().value(), 2U);
}

TEST(MemoryLinkStoreTest, InsertClaimsACodeOnce) {
  MemoryLinkStore store;
  EXPECT_TRUE(store.insert(make_link("abc")).value());
  Link other = make_link("abc");
  other.url = "https://other.example/";
  EXPECT_FALSE(store.insert(other).value());
  EXPECT_EQ(store.find("abc").value()->url, "https://example.com/");
}

TEST(MemoryLinkStoreTest, FindIsExactAndCaseSensitive) {
  MemoryLinkStore store;
  ASSERT_TRUE(store.insert(make_link("AbC")).value());
  EXPECT_TRUE(store.find("AbC").value().has_value());
  EXPECT_FALSE(store.find("abc").value().has_value());
  EXPECT_FALSE(store.find("AbC ").value().has_value());
  EXPECT_FALSE(store.find("").value().has_value());
}

TEST(MemoryLinkStoreTest, RemoveDeletesOnce) {
  MemoryLinkStore store;
  ASSERT_TRUE(store.insert(make_link("abc")).value());
  EXPECT_TRUE(store.remove("abc").value());
  EXPECT_FALSE(store.remove("abc").value());
  EXPECT_FALSE(store.find("abc").value().has_value());
  EXPECT_TRUE(store.insert(make_link("abc")).value());  // the code is free again
}

TEST(MemoryLinkStoreTest, ListWalksEveryLinkOnceNewestFirst) {
  MemoryLinkStore store;
  for (int i = 0; i < 25; ++i)
    ASSERT_TRUE(store.insert(make_link("c" + std::to_string(100 + i))).value());
  ASSERT_TRUE(store.remove("c110").value());
  ASSERT_TRUE(store.remove("c124").value());

  std::vector<std::string> walked;
  ListQuery query{std::nullopt, 4};
  int pages = 0;
  for (;;) {
    auto page = store.list(query);
    ASSERT_TRUE(page.ok());
    ASSERT_LE(page.value().items.size(), 4U);
    for (const auto& code : codes_of(page.value())) walked.push_back(code);
    ++pages;
    if (!page.value().next_cursor) break;
    query.cursor = page.value().next_cursor;
  }
  std::vector<std::string> expected;
  for (int i = 24; i >= 0; --i) {
    if (i != 10 && i != 24) expected.push_back("c" + std::to_string(100 + i));
  }
  EXPECT_EQ(walked, expected);
  EXPECT_EQ(pages, 6);  // 23 links in pages of 4; the last page has no cursor
}

TEST(MemoryLinkStoreTest, CursorSurvivesConcurrentChanges) {
  MemoryLinkStore store;
  for (const char* code : {"aaa", "bbb", "ccc", "ddd"})
    ASSERT_TRUE(store.insert(make_link(code)).value());
  auto first = store.list({std::nullopt, 2});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(codes_of(first.value()), (std::vector<std::string>{"ddd", "ccc"}));
  ASSERT_TRUE(store.insert(make_link("eee")).value());  // newer: not on later pages
  ASSERT_TRUE(store.remove("ccc").value());             // the cursor's own link may go away
  auto second = store.list({first.value().next_cursor, 2});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(codes_of(second.value()), (std::vector<std::string>{"bbb", "aaa"}));
  EXPECT_FALSE(second.value().next_cursor.has_value());
}

TEST(MemoryLinkStoreTest, ListEdgeCases) {
  MemoryLinkStore store;
  auto empty = store.list({std::nullopt, 10});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty.value().items.empty());
  EXPECT_FALSE(empty.value().next_cursor.has_value());

  ASSERT_TRUE(store.insert(make_link("abc")).value());
  auto exact = store.list({std::nullopt, 1});
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact.value().items.size(), 1U);
  EXPECT_FALSE(exact.value().next_cursor.has_value());

  for (const char* cursor : {"", "abc", "-1", "1.5", " 1", "99999999999999999999"}) {
    auto bad = store.list({std::string(cursor), 10});
    ASSERT_FALSE(bad.ok()) << cursor;
    EXPECT_EQ(bad.error().code, "invalid_cursor");
  }
}

TEST(MemoryLinkStoreTest, ConcurrentInsertsAndReadsAreSafe) {
  MemoryLinkStore store;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 500;
  std::atomic<int> shared_claims{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, &shared_claims, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string code = "t" + std::to_string(t) + "x" + std::to_string(i);
        EXPECT_TRUE(store.insert(make_link(code)).value());
        EXPECT_TRUE(store.find(code).value().has_value());
        if (store.insert(make_link("shared")).value()) ++shared_claims;
        if (i % 50 == 0) {
          EXPECT_TRUE(store.list({std::nullopt, 10}).ok());
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(shared_claims.load(), 1);
  auto all = store.list({std::nullopt, kThreads * kPerThread + 10});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all.value().items.size(), static_cast<std::size_t>(kThreads * kPerThread + 1));
}

}  // namespace
}  // namespace kurz::links
