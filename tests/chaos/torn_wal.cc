#include "chaos/torn_wal.h"

#include <cstdint>
#include <fstream>
#include <iterator>

namespace raftkit::chaos {

Status TearWalTail(const std::filesystem::path& wal_dir, std::mt19937_64& rng, std::string* what) {
  const std::filesystem::path& wal = wal_dir;
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path newest;
  for (const auto& e : fs::directory_iterator(wal, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() == 37 && name.substr(33) == ".wal" && (newest.empty() || e.path() > newest)) {
      newest = e.path();
    }
  }
  if (newest.empty()) return Status(ErrorCode::kNotFound, "no WAL segment in " + wal.string());
  std::fstream f(newest, std::ios::in | std::ios::out | std::ios::binary);
  if (!f) return Status(ErrorCode::kIoError, "cannot open " + newest.string());
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  // The end of the records (docs/formats/wal.md): 8-aligned 16-byte headers with a payload length
  // at offset 4; an all-zero header (the preallocated rest) or the end of the file ends them.
  auto u32 = [&](size_t at) {
    uint32_t v = 0;
    for (int k = 3; k >= 0; --k)
      v = (v << 8) | static_cast<uint8_t>(bytes[at + static_cast<size_t>(k)]);
    return v;
  };
  size_t end = 0;
  while (end + 16 <= bytes.size()) {
    bool zero = true;
    for (size_t k = 0; k < 16 && zero; ++k)
      zero = bytes[end + k] == 0;
    if (zero) break;
    const size_t next = end + 16 + ((static_cast<size_t>(u32(end + 4)) + 7) / 8) * 8;
    if (next > bytes.size()) break;
    end = next;
  }
  // The torn batch: a record header and payload as a Save would have appended them, of which only
  // a part reached the disk (the rest stays zero, as preallocated or past the end of the file).
  const uint32_t length = 24 + static_cast<uint32_t>(rng() % 200);
  std::string record(16 + length, '\0');
  for (size_t k = 0; k < record.size(); ++k)
    record[k] = static_cast<char>(rng());
  for (int k = 0; k < 4; ++k)
    record[4 + static_cast<size_t>(k)] = static_cast<char>((length >> (8 * k)) & 0xff);
  record[8] = 3;  // an entry
  record[9] = 1;
  record[10] = record[11] = 0;
  size_t keep = 0;
  switch (rng() % 3) {
    case 0:
      keep = 1 + rng() % 15;
      *what = "torn header (" + std::to_string(keep) + " of 16 bytes)";
      break;
    case 1:
      keep = 16 + rng() % length;
      *what = "payload cut short (" + std::to_string(keep - 16) + " of " + std::to_string(length) +
              " bytes)";
      break;
    default:
      // Every byte there, but some sectors' worth garbled: the CRC cannot match.
      keep = record.size();
      record[16 + rng() % length] ^= 0x5a;
      *what = "garbled record of " + std::to_string(length) + " bytes";
      break;
  }
  f.clear();
  f.seekp(static_cast<std::streamoff>(end));
  f.write(record.data(), static_cast<std::streamsize>(keep));
  f.close();
  if (!f) return Status(ErrorCode::kIoError, "cannot write " + newest.string());
  *what += " at offset " + std::to_string(end) + " of " + newest.filename().string();
  return Status::Ok();
}

}  // namespace raftkit::chaos
