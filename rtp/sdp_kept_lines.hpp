// Lines of an SDP body that sofia-sip 1.12 refuses or drops although b2buad can relay around them
// (RFC 4475: be liberal in what you accept): unknown line types, attribute names with characters
// sofia does not take, a=rtpmap without a clock rate ("a=rtpmap:31 LPC"). They reach sofia as a
// stand-in attribute and come back, byte for byte, in the printed SDP. Private to
// sdp_rewriter.cpp.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>

namespace b2bua::rtp::detail {

/// One line kept away from sofia.
struct KeptLine {
  std::string text;       ///< the line as received (trimmed, without CRLF)
  std::size_t media = 0;  ///< 0 = session level, i = in the i-th m= section (1-based)
  int rtpmap_pt = -1;     ///< an a=rtpmap sofia cannot read: its payload type
  std::string encoding;   ///< ... and its encoding name ("LPC"), if one could be read
  bool listed = false;    ///< ... and that payload type is on its m= line
};

/// The trimmed `record` ("x=...", not the first v= line) as a KeptLine when it must be kept away
/// from sofia; `media` as in KeptLine.
std::optional<KeptLine> keep_line(std::string_view record, std::size_t media);

/// The stand-in line sofia sees instead of kept line `index`.
std::string stand_in(std::size_t index);

/// After parsing: a kept a=rtpmap names its payload type's encoding (clock rate unknown, 0) in
/// sofia's format list (and is marked `listed`), without making sofia print an rtpmap of its own.
/// False when out of memory.
bool note_kept_rtpmaps(su_home_t* home, sdp_session_t* s, std::vector<KeptLine>& kept);

/// Before printing: drops the stand-ins of kept a=rtpmap lines whose payload type is no longer
/// on its m= line (telephone-event stripped); an rtpmap for a format never listed stays.
void drop_orphan_rtpmaps(sdp_session_t* s, const std::vector<KeptLine>& kept);

/// After printing: every stand-in line becomes its kept line again.
std::string restore_kept(std::string_view body, const std::vector<KeptLine>& kept);

}  // namespace b2bua::rtp::detail
