// telephone-event (RFC 4733) in one parsed m= line: what it declares and how b2buad adds or strips
// it. Internal to the SDP rewriter (sofia-sip's parsed form); no I/O, never throws.
#pragma once

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>

#include "rtp/sdp_rewriter.hpp"

namespace b2bua::rtp::detail {

/// Fills the payload types, clock rate and telephone-event fields of `out` from `m`.
void describe_telephone_event(const sdp_media_t* m, SdpStream& out);

/// Applies `edit` to `m` (strings allocated in `home`). False only when out of memory.
bool edit_telephone_event(su_home_t* home, sdp_media_t* m, const TelephoneEventEdit& edit);

}  // namespace b2bua::rtp::detail
