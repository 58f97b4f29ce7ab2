// The SIP message class b2buad's NTA parses with: sofia's own, with every message bounded in size.
#pragma once

#include <cstddef>

#include <sofia-sip/msg_types.h>

namespace b2bua::sip {

/// The largest SIP message b2buad accepts, in bytes (NTATAG_MAXSIZE; sofia's default).
inline constexpr std::size_t kMaxMessageBytes = 2 * 1024 * 1024;

/// sofia's SIP message class (sip_default_mclass()) whose body extraction first gives a message
/// without a size bound the bound kMaxMessageBytes. Pass it to NUA as NTATAG_MCLASS.
///
/// Why: NTA creates each message it reads with NTATAG_MAXSIZE, but when a TCP read holds more
/// than one message, tport goes on parsing the rest in a message that msg_next() creates without
/// any bound. Its Content-Length then sizes one allocation: 2 GiB or more aborts the process
/// (su_alloc.c: `size < (((size_t)1) << SIZEBITS)`), less takes that much memory. With the bound the
/// body is refused as too large (MSG_FLG_TOOLARGE), as it is in the first message of a read.
/// Built once, never freed; nullptr if it could not be allocated. Any thread may call it.
msg_mclass_t const* bounded_sip_mclass();

}  // namespace b2bua::sip
