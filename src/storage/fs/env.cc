// The parts of the file seam shared by every Env: the default ReadFile and JoinPath.
#include "raftkit/storage/fs/env.h"

namespace raftkit::storage {

Result<std::string> Env::ReadFile(const std::string& path) {
  // Built on OpenSequential so that every Env, including MemEnv's fault injection and stale-handle
  // checks, reads through one path. The chunk size only bounds each Read's allocation.
  constexpr size_t kChunk = size_t{64} * 1024;
  auto file = OpenSequential(path);
  if (!file.ok()) return file.status();
  std::string content;
  std::string chunk;
  while (true) {
    RAFTKIT_RETURN_IF_ERROR((*file)->Read(kChunk, &chunk));
    if (chunk.empty()) break;
    content += chunk;
  }
  return content;
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string path(dir);
  if (!path.empty() && path.back() != '/') path += '/';
  path += name;
  return path;
}

}  // namespace raftkit::storage
