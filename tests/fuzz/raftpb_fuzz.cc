// Fuzz target for raftpb's decoders of Entry and Message (src/raftpb/codec.cc), which take a fast
// path for the layout Go's Marshal writes and leave everything else to protobuf. Checked properties
// on arbitrary bytes:
//   * the fast path and protobuf agree: both accept or both refuse, and accept the same value;
//   * whatever is accepted re-encodes to bytes that decode again, to the same value when the input
//     was in Go's own layout (Encode gives the input back). Not for every accepted input: protobuf
//     also accepts non-canonical forms (an over-long tag varint, say) whose unknown-field bytes
//     are kept verbatim and may read differently once written in canonical position.
//
// Input layout: byte 0 chooses the kind (even: Entry, odd: Message), the rest is the encoding.
// Seed corpus: tests/fuzz/corpus/raftpb/ (etcd's own encodings from the raftpb golden vectors).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "raftkit/raftpb/codec.h"
#include "raftkit/raftpb/types.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

template <class T>
void CheckSame(const raftkit::Result<T>& fast, const raftkit::Result<T>& slow) {
  Check(fast.ok() == slow.ok());
  if (fast.ok()) Check(fast.value() == slow.value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  namespace pb = raftkit::raftpb;
  if (data[0] % 2 == 0) {
    const auto fast = pb::DecodeEntry(bytes);
    CheckSame(fast, pb::internal::DecodeEntryWithProtobuf(bytes));
    if (fast.ok()) {
      const std::string enc = pb::Encode(fast.value());
      const auto again = pb::DecodeEntry(enc);
      Check(again.ok());
      if (enc == bytes) Check(again.value() == fast.value());
    }
  } else {
    const auto fast = pb::DecodeMessage(bytes);
    CheckSame(fast, pb::internal::DecodeMessageWithProtobuf(bytes));
    if (fast.ok()) {
      const std::string enc = pb::Encode(fast.value());
      const auto again = pb::DecodeMessage(enc);
      Check(again.ok());
      if (enc == bytes) Check(again.value() == fast.value());
    }
  }
  return 0;
}
