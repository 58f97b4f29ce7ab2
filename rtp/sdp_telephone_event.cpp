// telephone-event in a parsed m= line: read, added, stripped.
#include "rtp/sdp_telephone_event.hpp"

#include <string>

#include <strings.h>

namespace b2bua::rtp::detail {

namespace {

bool is_telephone_event(const sdp_rtpmap_t* r) {
  return r->rm_encoding != nullptr && ::strcasecmp(r->rm_encoding, "telephone-event") == 0;
}

}  // namespace

void describe_telephone_event(const sdp_media_t* m, SdpStream& out) {
  // A clock from the peer's SDP outside what RTP uses (1-192 kHz) is taken as 8000: it scales
  // timestamps and durations, and an absurd one would overflow them.
  auto rate = [](unsigned long hz) {
    return hz >= 1000 && hz <= 192000 ? static_cast<std::uint32_t>(hz) : std::uint32_t{8000};
  };
  for (const sdp_rtpmap_t* r = m->m_rtpmaps; r != nullptr; r = r->rm_next) {
    out.payload_types.push_back(static_cast<std::uint8_t>(r->rm_pt));
    if (r == m->m_rtpmaps) {
      out.clock_rate = rate(r->rm_rate);
    }
    if (out.te_payload_type < 0 && is_telephone_event(r)) {
      out.te_payload_type = static_cast<int>(r->rm_pt);
      out.te_clock_rate = rate(r->rm_rate);
      out.te_events = r->rm_fmtp != nullptr ? r->rm_fmtp : "";
    }
  }
}

bool edit_telephone_event(su_home_t* home, sdp_media_t* m, const TelephoneEventEdit& edit) {
  if (m->m_rtpmaps == nullptr || edit.kind == TelephoneEventEdit::Kind::keep) {
    return true;  // not RTP (or no formats): nothing to do
  }
  if (edit.kind == TelephoneEventEdit::Kind::strip) {
    bool other = false;
    for (const sdp_rtpmap_t* r = m->m_rtpmaps; r != nullptr; r = r->rm_next) {
      other = other || !is_telephone_event(r);
    }
    for (sdp_rtpmap_t** r = &m->m_rtpmaps; other && *r != nullptr;) {
      if (is_telephone_event(*r)) {
        *r = (*r)->rm_next;
      } else {
        r = &(*r)->rm_next;
      }
    }
    return true;
  }
  sdp_rtpmap_t** tail = &m->m_rtpmaps;
  for (; *tail != nullptr; tail = &(*tail)->rm_next) {
    if (is_telephone_event(*tail) || (*tail)->rm_pt == (edit.payload_type & 0x7f)) {
      return true;  // declared already, or the payload type is taken
    }
  }
  auto* r = static_cast<sdp_rtpmap_t*>(su_salloc(home, sizeof(sdp_rtpmap_t)));
  if (r == nullptr) {
    return false;
  }
  r->rm_pt = edit.payload_type & 0x7f;
  r->rm_encoding = "telephone-event";
  r->rm_rate = edit.clock_rate == 0 ? 8000 : edit.clock_rate;
  r->rm_fmtp = edit.events.empty() ? nullptr : su_strdup(home, edit.events.c_str());
  *tail = r;
  return edit.events.empty() || r->rm_fmtp != nullptr;
}

}  // namespace b2bua::rtp::detail
