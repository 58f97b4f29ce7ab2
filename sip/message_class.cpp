// A copy of sofia's SIP message class whose body extraction bounds every message it reads.
#include "sip/message_class.hpp"

#include <sofia-sip/msg.h>
#include <sofia-sip/msg_mclass.h>
#include <sofia-sip/sip_header.h>

namespace b2bua::sip {
namespace {

issize_t extract_body_bounded(msg_t* msg, msg_pub_t* pub, char b[], isize_t bsiz, int eos) {
  // msg_maxsize(msg, 0) reads the bound without changing it; 0 means none (msg_next()).
  if (msg_maxsize(msg, 0) == 0) {
    msg_maxsize(msg, kMaxMessageBytes);
  }
  return sip_default_mclass()->mc_extract_body(msg, pub, b, bsiz, eos);
}

}  // namespace

msg_mclass_t const* bounded_sip_mclass() {
  static msg_mclass_t const* const mclass = [] {
    msg_mclass_t* mc = msg_mclass_clone(sip_default_mclass(), 0, 0);
    if (mc != nullptr) {
      mc->mc_extract_body = extract_body_bounded;
    }
    return mc;
  }();
  return mclass;
}

}  // namespace b2bua::sip
