#include "raftkit/util/bytes.h"

namespace raftkit {

Bytes Bytes::Empty() {
  // One shared empty buffer: "present but empty" fields are common (heartbeat contexts).
  static const Bytes kEmpty{std::string()};
  return kEmpty;
}

}  // namespace raftkit
