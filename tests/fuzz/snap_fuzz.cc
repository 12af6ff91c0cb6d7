// Fuzz target for snapshot files (docs/formats/snapshot.md): arbitrary bytes must never crash the
// in-memory decoder (DecodeSnapshotFile) nor the streaming path (a MemEnv file opened with
// OpenReader and read to the end, then LoadNewest, which sets damaged files aside). The two paths
// must also agree: a file that streams to the end without error decodes, and the other way round.
//
// Seed corpus: tests/fuzz/corpus/snap/ (written by tests/storage/snap/format_test.cc). Builds as a
// libFuzzer target with clang, and with g++ as a plain object for a replay driver.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "raftkit/raftpb/codec.h"
#include "raftkit/storage/fs/mem_env.h"
#include "raftkit/storage/snap/snapshotter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

using raftkit::storage::snap::Snapshotter;

constexpr size_t kChunk = 7;  // small and odd, so reads rarely line up with the layout

// The name the input is stored under: the one its own metadata implies when the metadata decodes,
// so the reader gets past the name check and streams the data; a fixed name otherwise.
std::string NameFor(std::string_view bytes) {
  if (bytes.size() >= 32) {
    uint64_t m = 0;  // the metadata length, u32 little-endian at offset 12
    for (int i = 3; i >= 0; --i)
      m = (m << 8) | static_cast<unsigned char>(bytes[12 + static_cast<size_t>(i)]);
    if (m <= bytes.size() - 32) {
      auto md = raftkit::raftpb::DecodeSnapshotMetadata(bytes.substr(32, m));
      if (md.ok()) return Snapshotter::FileName(md->term, md->index);
    }
  }
  return Snapshotter::FileName(raftkit::Term(1), raftkit::Index(1));
}

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto decoded = raftkit::storage::snap::DecodeSnapshotFile(bytes);

  raftkit::storage::MemEnv env;
  const std::string name = NameFor(bytes);
  env.SetContents("/snap/" + name, std::string(bytes));
  Snapshotter snapshotter(raftkit::storage::snap::Options{&env, "/snap", kChunk});

  auto reader = snapshotter.OpenReader(name);
  if (reader.ok()) {
    std::string chunk;
    std::string streamed;
    raftkit::Status st;
    while ((st = (*reader)->Next(&chunk)).ok() && !chunk.empty()) {
      Check(chunk.size() <= kChunk);
      streamed += chunk;
    }
    Check(st.ok() == decoded.ok());
    if (st.ok()) {
      Check(streamed == decoded->data.view());
      Check((*reader)->header().metadata == decoded->metadata);
    }
  } else {
    // A file that decodes is stored under its own name, so the reader must not refuse it.
    Check(!decoded.ok());
  }

  std::vector<std::string> broken;
  auto newest = snapshotter.LoadNewest(nullptr, &broken);
  Check(newest.ok() || newest.code() == raftkit::ErrorCode::kNotFound);
  Check(newest.ok() != (broken.size() == 1));
  return 0;
}
