// The web UI's static files, compiled into the binary (see cmake/EmbedFiles.cmake).
//
// Domain-free: no HTTP here. The HTTP adapter maps routes to find_asset() and sets the caching
// and security headers.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace kurz::web {

struct Asset {
  std::string_view path;          // "/index.html", "/static/app.js", ...
  std::string_view content_type;  // from the extension, e.g. "text/css; charset=utf-8"
  std::string_view body;          // the file's bytes, valid for the life of the process
  std::string_view etag;          // strong validator: "\"<16 hex digits>\"" (FNV-1a 64 of body)
  // True when the path names one version of the content forever, so that a client may cache it
  // with `immutable`. No asset is fingerprinted yet, so this is false for all of them: serve
  // them with `Cache-Control: no-cache` and answer If-None-Match with 304.
  bool immutable;
};

// The asset at exactly `path` (leading '/', case-sensitive), or nullptr. No normalisation or
// percent-decoding happens: "/static/../index.html", "//index.html" or "/%2e%2e/x" match nothing.
// Thread-safe; the table (and its ETags) is built once, on first use.
const Asset* find_asset(std::string_view path);

// Every embedded asset, in the order given to kurz_embed_files().
const std::vector<Asset>& all_assets();

}  // namespace kurz::web
