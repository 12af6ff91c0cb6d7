// The snapshot file format itself: the worked example of docs/formats/snapshot.md byte for byte,
// the in-memory decoder (DecodeSnapshotFile) on damaged and hostile headers, the fuzz target's
// seed corpus, and the fuzz target run over that corpus and its truncations and bit flips.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "raftkit/raftpb/codec.h"
#include "raftkit/storage/snap/snapshotter.h"
#include "raftkit/util/crc32c.h"
#include "storage/snap/snap_test_util.h"
#include "testlib/hex.h"

#ifndef RAFTKIT_TEST_SOURCE_DIR
#error "RAFTKIT_TEST_SOURCE_DIR must be defined by tests/storage/snap/CMakeLists.txt"
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace raftkit::storage::snap {
namespace {

using testing::DocumentedExample;
using testing::FileImage;
using testing::SameSnapshot;
using testing::SeedCorpus;
using testing::Snap;

// The worked example of docs/formats/snapshot.md: term 2, index 5, voters {1, 2, 3}, data
// "hello". If this changes, the format changed: bump the version and update the document.
constexpr std::string_view kExampleHex =
    "524b534e41503031"  // magic "RKSNAP01"
    "01000000"          // version 1
    "0e000000"          // metadata length 14
    "0500000000000000"  // data length 5
    "c68bf918"          // masked CRC32C of the 24 bytes above
    "00000000"          // reserved
    "0a0808010802080328001005"
    "1802"        // metadata: conf_state{voters 1,2,3; auto_leave false}, index 5, term 2
    "68656c6c6f"  // data "hello"
    "8ccf9642"    // masked CRC32C of metadata || data
    "524b5345";   // end magic "RKSE"

std::string FromHex(std::string_view hex) {
  std::string out;
  EXPECT_TRUE(raftkit::testing::FromHex(hex, &out)) << "bad hex in the example";
  return out;
}

void PutU32(std::string* s, size_t at, uint32_t v) {
  for (size_t i = 0; i < 4; ++i)
    (*s)[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void PutU64(std::string* s, size_t at, uint64_t v) {
  for (size_t i = 0; i < 8; ++i)
    (*s)[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
// Recomputes the header CRC, so that a test can present a header whose fields are hostile but
// whose checksum is right.
void ResealHeader(std::string* file) {
  PutU32(file, 24, crc32c::Mask(crc32c::Value(file->data(), 24)));
}

TEST(SnapshotFormatTest, DocumentedExampleEncodesToTheseBytes) {
  const std::string image = FileImage(DocumentedExample());
  EXPECT_EQ(image, FromHex(kExampleHex));
  // The CRCs in the document are those of the spelled-out bytes.
  EXPECT_EQ(crc32c::Unmask(0x18f98bc6u), crc32c::Value(image.data(), 24));
  EXPECT_EQ(crc32c::Unmask(0x4296cf8cu), crc32c::Value(image.data() + 32, 14 + 5));

  auto decoded = DecodeSnapshotFile(image);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(SameSnapshot(*decoded, DocumentedExample()));
}

TEST(SnapshotFormatTest, DecoderRejectsEveryTruncationAndEverySingleBitFlip) {
  const std::string image = FileImage(Snap(3, 9, "some state bytes"));
  ASSERT_TRUE(DecodeSnapshotFile(image).ok());
  for (size_t len = 0; len < image.size(); ++len) {
    EXPECT_EQ(DecodeSnapshotFile(image.substr(0, len)).code(), ErrorCode::kCorruption) << len;
  }
  for (size_t off = 0; off < image.size(); ++off) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = image;
      damaged[off] = static_cast<char>(damaged[off] ^ (1 << bit));
      EXPECT_EQ(DecodeSnapshotFile(damaged).code(), ErrorCode::kCorruption)
          << "offset " << off << " bit " << bit;
    }
  }
}

TEST(SnapshotFormatTest, MetadataLengthOverTheLimitIsCorruptionEvenWithAGoodHeaderCrc) {
  std::string image = FileImage(DocumentedExample());
  PutU32(&image, 12, (64u << 20) + 1);
  ResealHeader(&image);
  auto r = DecodeSnapshotFile(image);
  ASSERT_EQ(r.code(), ErrorCode::kCorruption);
  EXPECT_NE(r.status().message().find("limit"), std::string::npos) << r.status().ToString();
}

TEST(SnapshotFormatTest, HugeDataLengthIsASizeMismatchNotAnOverflow) {
  for (uint64_t d : {std::numeric_limits<uint64_t>::max(),
                     std::numeric_limits<uint64_t>::max() - 45, uint64_t{1} << 63}) {
    std::string image = FileImage(DocumentedExample());
    PutU64(&image, 16, d);
    ResealHeader(&image);
    auto r = DecodeSnapshotFile(image);
    ASSERT_EQ(r.code(), ErrorCode::kCorruption) << d;
    EXPECT_NE(r.status().message().find("size mismatch"), std::string::npos)
        << r.status().ToString();
  }
}

TEST(SnapshotFormatTest, UnknownVersionAndNonZeroReservedWordAreCorruption) {
  std::string version = FileImage(DocumentedExample());
  PutU32(&version, 8, 2);
  ResealHeader(&version);
  auto r = DecodeSnapshotFile(version);
  ASSERT_EQ(r.code(), ErrorCode::kCorruption);
  EXPECT_NE(r.status().message().find("version 2"), std::string::npos) << r.status().ToString();

  std::string reserved = FileImage(DocumentedExample());
  PutU32(&reserved, 28, 1);
  EXPECT_EQ(DecodeSnapshotFile(reserved).code(), ErrorCode::kCorruption);
}

TEST(SnapshotFormatTest, MetadataThatDoesNotDecodeIsCorruptionEvenWithGoodCrcs) {
  // A header and trailer computed over 4 bytes of invalid protobuf (a truncated varint).
  const std::string meta = "\x08\xff\xff\xff";
  std::string image(32, '\0');
  image.replace(0, 8, "RKSNAP01");
  PutU32(&image, 8, 1);
  PutU32(&image, 12, static_cast<uint32_t>(meta.size()));
  PutU64(&image, 16, 0);
  ResealHeader(&image);
  image += meta;
  image += std::string(4, '\0');
  PutU32(&image, image.size() - 4, crc32c::Mask(crc32c::Value(meta)));
  image += "RKSE";
  auto r = DecodeSnapshotFile(image);
  ASSERT_EQ(r.code(), ErrorCode::kCorruption);
  EXPECT_NE(r.status().message().find("metadata"), std::string::npos) << r.status().ToString();
}

std::filesystem::path CorpusDir() {
  std::string root = RAFTKIT_TEST_SOURCE_DIR;
  if (const char* dir = std::getenv("RAFTKIT_SOURCE_DIR"); dir != nullptr && *dir != '\0') {
    root = dir;
  }
  return std::filesystem::path(root) / "tests/fuzz/corpus/snap";
}

std::map<std::string, std::string> ReadCorpus() {
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(CorpusDir())) {
    std::ifstream in(entry.path(), std::ios::binary);
    files[entry.path().filename().string()] =
        std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return files;
}

// The seed corpus is what SeedCorpus() generates from the current encoder. To regenerate it after
// a deliberate format change: RAFTKIT_REWRITE_CORPUS=1 ./storage_snap_format_test.
TEST(SnapshotFormatTest, SeedCorpusIsWhatTheEncoderWrites) {
  const std::map<std::string, std::string> expected = SeedCorpus();
  if (const char* rewrite = std::getenv("RAFTKIT_REWRITE_CORPUS");
      rewrite != nullptr && std::string_view(rewrite) == "1") {
    std::filesystem::remove_all(CorpusDir());
    std::filesystem::create_directories(CorpusDir());
    for (const auto& [name, content] : expected) {
      std::ofstream(CorpusDir() / name, std::ios::binary) << content;
    }
  }
  ASSERT_TRUE(std::filesystem::is_directory(CorpusDir())) << CorpusDir();
  EXPECT_EQ(ReadCorpus(), expected);
  for (const auto& [name, content] : expected) {
    EXPECT_EQ(DecodeSnapshotFile(content).ok(), name.starts_with("valid-")) << name;
  }
}

// The fuzz target, compiled here with g++ and the project's warnings, on the seed corpus and on
// every truncation and single-byte change of it. It aborts on any inconsistency it notices.
TEST(SnapshotFormatTest, FuzzTargetSurvivesTheCorpusAndItsMutations) {
  size_t runs = 0;
  const auto run = [&runs](const std::string& input) {
    EXPECT_EQ(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size()),
              0);
    ++runs;
  };
  for (const auto& [name, content] : SeedCorpus()) {
    run(content);
    for (size_t len = 0; len < content.size(); ++len)
      run(content.substr(0, len));
    for (size_t off = 0; off < content.size(); ++off) {
      std::string damaged = content;
      damaged[off] = static_cast<char>(damaged[off] ^ 0x80);
      run(damaged);
    }
  }
  EXPECT_GT(runs, 500u);
}

}  // namespace
}  // namespace raftkit::storage::snap
