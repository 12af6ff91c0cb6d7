// Expected outcomes as values (STYLE.md, practice 12). Broken invariants do not use these: they
// abort with context through RAFTKIT_PANIC (panic.h).
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace raftkit {

/// The project's error vocabulary. The Raft-specific codes mirror etcd's sentinel errors so that a
/// reader can match behaviour side by side.
enum class ErrorCode {
  kOk = 0,
  // --- Raft core (etcd: raft.Err*) ---
  kProposalDropped,                 ///< ErrProposalDropped: the proposal was ignored; fail fast.
  kStepLocalMsg,                    ///< ErrStepLocalMsg: a local message type came from outside.
  kStepPeerNotFound,                ///< ErrStepPeerNotFound: a response from an unknown peer.
  kCompacted,                       ///< ErrCompacted: the index was compacted away.
  kSnapOutOfDate,                   ///< ErrSnapOutOfDate: older than the existing snapshot.
  kUnavailable,                     ///< ErrUnavailable: the entry is not (yet) in storage.
  kSnapshotTemporarilyUnavailable,  ///< ErrSnapshotTemporarilyUnavailable: try again later.
  // --- generic ---
  kInvalidArgument,  ///< A caller passed something malformed (bad config, bad bytes).
  kCorruption,       ///< Persistent or wire data failed validation.
  kNotFound,
  kAlreadyExists,
  kIoError,
  kInternal,
  // --- server (what a proposal or read can come back with) ---
  kNotLeader,   ///< no leader is known (or the request must go to the leader)
  kTimeout,     ///< not answered within the request timeout
  kStopped,     ///< the server stopped (or was removed) before answering
  kOverloaded,  ///< too many requests pending; retry later
};

/// The etcd-style name of a code, e.g. "ProposalDropped".
std::string_view ErrorCodeName(ErrorCode code) noexcept;

/// Success, or an error code with a human-readable message.
class [[nodiscard]] Status {
 public:
  Status() noexcept = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() noexcept { return Status(); }

  [[nodiscard]] bool ok() const noexcept { return code_ == ErrorCode::kOk; }
  [[nodiscard]] ErrorCode code() const noexcept { return code_; }
  [[nodiscard]] const std::string& message() const noexcept { return message_; }
  /// "ok" or "<CodeName>: <message>".
  [[nodiscard]] std::string ToString() const;

  /// Two statuses are equal when their codes are; messages are for humans.
  friend bool operator==(const Status& a, const Status& b) noexcept { return a.code_ == b.code_; }
  friend bool operator==(const Status& a, ErrorCode c) noexcept { return a.code_ == c; }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

/// A value or an error (C++23's std::expected, for C++20). Accessing value() of an error aborts.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok() && "a Result error needs a non-ok Status");
  }
  Result(ErrorCode code, std::string message) : Result(Status(code, std::move(message))) {}

  [[nodiscard]] bool ok() const noexcept { return std::holds_alternative<T>(v_); }
  explicit operator bool() const noexcept { return ok(); }

  [[nodiscard]] T& value() & { return std::get<T>(v_); }
  [[nodiscard]] const T& value() const& { return std::get<T>(v_); }
  [[nodiscard]] T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The error; Status::Ok() when this holds a value.
  [[nodiscard]] Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }
  [[nodiscard]] ErrorCode code() const noexcept {
    return ok() ? ErrorCode::kOk : std::get<Status>(v_).code();
  }
  [[nodiscard]] T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace raftkit

namespace raftkit::internal {
inline Status ToStatus(const Status& s) {
  return s;
}
template <class T>
Status ToStatus(const Result<T>& r) {
  return r.status();
}
}  // namespace raftkit::internal

/// Returns early from the enclosing function with the error of `expr` (a Status or a Result).
#define RAFTKIT_RETURN_IF_ERROR(expr)                    \
  do {                                                   \
    if (auto raftkit_st_ = (expr); !raftkit_st_.ok()) {  \
      return ::raftkit::internal::ToStatus(raftkit_st_); \
    }                                                    \
  } while (0)
