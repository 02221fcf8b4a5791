#include "kurz/web/assets.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace kurz::web {
namespace {

std::string read_source(std::string_view path) {
  std::ifstream in(std::string(KURZ_WEB_ASSET_DIR) + std::string(path), std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct Expected {
  const char* path;
  const char* content_type;
};

constexpr Expected kExpected[] = {
    {"/index.html", "text/html; charset=utf-8"},
    {"/static/common.js", "text/javascript; charset=utf-8"},
    {"/static/links.js", "text/javascript; charset=utf-8"},
    {"/static/stats.js", "text/javascript; charset=utf-8"},
    {"/static/instances.js", "text/javascript; charset=utf-8"},
    {"/static/app.js", "text/javascript; charset=utf-8"},
    {"/static/app.css", "text/css; charset=utf-8"},
    {"/static/favicon.svg", "image/svg+xml"},
};

constexpr const char* kScripts[] = {
    "/static/common.js", "/static/links.js", "/static/stats.js", "/static/instances.js",
    "/static/app.js",
};

TEST(FindAsset, EveryAssetIsFoundWithItsTypeAndItsExactBytes) {
  for (const Expected& e : kExpected) {
    SCOPED_TRACE(e.path);
    const Asset* asset = find_asset(e.path);
    ASSERT_NE(asset, nullptr);
    EXPECT_EQ(asset->path, e.path);
    EXPECT_EQ(asset->content_type, e.content_type);
    EXPECT_FALSE(asset->body.empty());
    EXPECT_EQ(asset->body, read_source(e.path));
    EXPECT_FALSE(asset->immutable);
  }
  EXPECT_EQ(all_assets().size(), std::size(kExpected));
}

TEST(FindAsset, EtagIsQuotedHexStableAndDistinct) {
  const std::regex strong_etag("\"[0-9a-f]{16}\"");
  std::set<std::string_view> seen;
  for (const Expected& e : kExpected) {
    SCOPED_TRACE(e.path);
    const Asset* asset = find_asset(e.path);
    ASSERT_NE(asset, nullptr);
    EXPECT_TRUE(std::regex_match(std::string(asset->etag), strong_etag)) << asset->etag;
    EXPECT_EQ(find_asset(e.path)->etag, asset->etag);  // same value on every call
    EXPECT_EQ(find_asset(e.path), asset);
    seen.insert(asset->etag);
  }
  EXPECT_EQ(seen.size(), std::size(kExpected));
}

TEST(FindAsset, UnknownAndTrickyPathsMatchNothing) {
  using namespace std::string_view_literals;
  const std::string_view paths[] = {
      ""sv,
      "/"sv,
      "index.html"sv,
      "static/app.js"sv,
      "/INDEX.HTML"sv,
      "/index.html/"sv,
      "/index.html?x=1"sv,
      "/index.htm"sv,
      "/static/"sv,
      "/static/missing.js"sv,
      "/static/../index.html"sv,
      "/static/./app.js"sv,
      "//index.html"sv,
      "/static//app.js"sv,
      "/%2e%2e/index.html"sv,
      "/static/%2e%2e/index.html"sv,
      "/static/app%2ejs"sv,
      "/static\\app.js"sv,
      "/index.html\0"sv,
      "/index.html\0.png"sv,
  };
  for (const std::string_view path : paths) {
    EXPECT_EQ(find_asset(path), nullptr) << path;
  }
}

// The page must work under `script-src 'self'; style-src 'self'`: no inline code of any kind.
TEST(IndexHtml, HasNoInlineScriptStyleOrHandlers) {
  const Asset* index = find_asset("/index.html");
  ASSERT_NE(index, nullptr);
  const std::string html(index->body);

  const std::regex script_tag("<script([^>]*)>([\\s\\S]*?)</script>", std::regex::icase);
  int scripts = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), script_tag);
       it != std::sregex_iterator(); ++it) {
    ++scripts;
    EXPECT_NE((*it)[1].str().find("src=\"/static/"), std::string::npos) << (*it)[0];
    EXPECT_EQ((*it)[2].str(), "") << "inline script body: " << (*it)[0];
  }
  EXPECT_EQ(scripts, static_cast<int>(std::size(kScripts)));
  EXPECT_FALSE(std::regex_search(html, std::regex("\\sstyle\\s*=", std::regex::icase)));
  EXPECT_FALSE(std::regex_search(html, std::regex("<style", std::regex::icase)));
  EXPECT_FALSE(std::regex_search(html, std::regex("\\son[a-z]+\\s*=", std::regex::icase)));
  EXPECT_FALSE(std::regex_search(html, std::regex("javascript:", std::regex::icase)));
}

// No CDN, no web fonts: every reference stays on the same origin.
TEST(Assets, ReferenceNoExternalResources) {
  const std::regex external(
      "(src|href)\\s*=\\s*\"(https?:)?//|url\\(\\s*['\"]?(https?:)?//|@import", std::regex::icase);
  for (const Expected& e : kExpected) {
    SCOPED_TRACE(e.path);
    const std::string body(find_asset(e.path)->body);
    EXPECT_FALSE(std::regex_search(body, external));
  }
}

// index.html loads every script, deferred (so they run in document order, after parsing), in the
// order the scripts rely on: common.js first (it defines window.kurz), app.js last (it starts all).
TEST(IndexHtml, LoadsEveryScriptDeferredInOrder) {
  const std::string html(find_asset("/index.html")->body);
  std::size_t previous = 0;
  for (const char* script : kScripts) {
    SCOPED_TRACE(script);
    const std::string tag = std::string("<script src=\"") + script + "\" defer></script>";
    const std::size_t at = html.find(tag);
    ASSERT_NE(at, std::string::npos);
    EXPECT_GT(at, previous);
    previous = at;
  }
}

// Everything shown is text: no script builds markup from strings, evaluates code, or writes an
// inline style attribute (blocked by `style-src 'self'`; element.style via the CSSOM is allowed).
TEST(Scripts, NeverWriteHtmlEvalOrInlineStyleAttributes) {
  for (const char* script : kScripts) {
    SCOPED_TRACE(script);
    const Asset* asset = find_asset(script);
    ASSERT_NE(asset, nullptr);
    const std::string js(asset->body);
    EXPECT_EQ(js.find("innerHTML"), std::string::npos);
    EXPECT_EQ(js.find("outerHTML"), std::string::npos);
    EXPECT_EQ(js.find("insertAdjacentHTML"), std::string::npos);
    EXPECT_EQ(js.find("createContextualFragment"), std::string::npos);
    EXPECT_EQ(js.find("DOMParser"), std::string::npos);
    EXPECT_EQ(js.find("document.write"), std::string::npos);
    EXPECT_EQ(js.find("eval("), std::string::npos);
    EXPECT_EQ(js.find("new Function"), std::string::npos);
    EXPECT_EQ(js.find("cssText"), std::string::npos);
    EXPECT_FALSE(std::regex_search(js, std::regex("setAttribute\\(\\s*['\"](style|on[a-z]+)['\"]",
                                                  std::regex::icase)));
    EXPECT_FALSE(std::regex_search(js, std::regex("set(Timeout|Interval)\\(\\s*['\"`]")))
        << "string passed to a timer is eval";
    // Only relative URLs: the page works on the monolith and behind a load balancer.
    EXPECT_FALSE(std::regex_search(js, std::regex("fetch\\(\\s*['\"`](https?:)?//")));
    EXPECT_NE(js.find("'use strict';"), std::string::npos);
  }
}

}  // namespace
}  // namespace kurz::web
