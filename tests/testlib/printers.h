// GoogleTest printers for raftkit's value types, so that failed expectations show numbers and
// entries instead of raw bytes. Found by argument-dependent lookup; included by raft_fixtures.h.
#pragma once

#include <ostream>

#include "raftkit/raftpb/types.h"
#include "raftkit/util/ids.h"

namespace raftkit {
template <class Tag, bool kArithmetic>
void PrintTo(Strong<Tag, kArithmetic> v, std::ostream* os) {
  *os << v.value();
}
namespace raftpb {
inline void PrintTo(const Entry& e, std::ostream* os) {
  *os << "{term " << e.term.value() << ", index " << e.index.value() << ", type "
      << static_cast<int>(e.type) << ", data "
      << (e.data.is_null() ? "null" : "\"" + e.data.str() + "\"") << "}";
}
}  // namespace raftpb
}  // namespace raftkit
