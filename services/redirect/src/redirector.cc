#include "kurz/redirect/redirector.h"

#include <utility>

#include "kurz/common/utf8.h"
#include "kurz/links/slug.h"
#include "kurz/links/url.h"

namespace kurz::redirect {

using common::Error;
using common::ErrorKind;

common::Result<std::string> Redirector::resolve(std::string_view code, std::string_view referrer,
                                                std::string_view user_agent) {
  std::optional<links::Link> link;
  if (links::is_well_formed_code(code)) {
    auto found = links_.find(code);
    if (!found.ok()) return found.error();
    link = std::move(found).value();
  }
  if (!link) return Error{ErrorKind::NotFound, "not_found", "this short link does not exist"};

  const common::TimePoint now = clock_.now();
  if (link->expired_at(now)) return Error{ErrorKind::Gone, "gone", "this link has expired"};
  // Location only ever carries a valid absolute http(s) URL, as a URI (ASCII, the host as its
  // A-label): what the store holds is checked again (it may predate a rule, or have been written
  // by something else), never trusted; once per link where a reader checked and encoded it on
  // the way in (target_valid), else here on every visit.
  if (!link->target_valid) {
    links::prepare_target(*link);
    if (!link->target_valid) {
      return Error{ErrorKind::Internal, "invalid_target", "this link's target is not a valid URL"};
    }
  }

  // The link is ours: move its code and URI out instead of copying them.
  clicks_.record(common::ClickEvent{now, std::move(link->code),
                                    common::sanitize_utf8(referrer, kMaxReferrerBytes),
                                    common::sanitize_utf8(user_agent, kMaxUserAgentBytes)});
  return link->location.empty() ? std::move(link->url) : std::move(link->location);
}

}  // namespace kurz::redirect
