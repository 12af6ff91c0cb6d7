#include "raftkit/util/status.h"

namespace raftkit {

std::string_view ErrorCodeName(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kOk:
      return "OK";
    case ErrorCode::kProposalDropped:
      return "ProposalDropped";
    case ErrorCode::kStepLocalMsg:
      return "StepLocalMsg";
    case ErrorCode::kStepPeerNotFound:
      return "StepPeerNotFound";
    case ErrorCode::kCompacted:
      return "Compacted";
    case ErrorCode::kSnapOutOfDate:
      return "SnapOutOfDate";
    case ErrorCode::kUnavailable:
      return "Unavailable";
    case ErrorCode::kSnapshotTemporarilyUnavailable:
      return "SnapshotTemporarilyUnavailable";
    case ErrorCode::kInvalidArgument:
      return "InvalidArgument";
    case ErrorCode::kCorruption:
      return "Corruption";
    case ErrorCode::kNotFound:
      return "NotFound";
    case ErrorCode::kAlreadyExists:
      return "AlreadyExists";
    case ErrorCode::kIoError:
      return "IoError";
    case ErrorCode::kInternal:
      return "Internal";
    case ErrorCode::kNotLeader:
      return "NotLeader";
    case ErrorCode::kTimeout:
      return "Timeout";
    case ErrorCode::kStopped:
      return "Stopped";
    case ErrorCode::kOverloaded:
      return "Overloaded";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out(ErrorCodeName(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

}  // namespace raftkit
