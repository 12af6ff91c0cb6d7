// Logging shorthands for the core's classes, which all keep a `Logger* logger_`. Arguments are
// evaluated only when the level is enabled (RAFTKIT_LOG).
#pragma once

#include "raftkit/util/logger.h"

#define RAFT_DEBUG(...) RAFTKIT_LOG(*logger_, ::raftkit::LogLevel::kDebug, __VA_ARGS__)
#define RAFT_INFO(...) RAFTKIT_LOG(*logger_, ::raftkit::LogLevel::kInfo, __VA_ARGS__)
#define RAFT_WARN(...) RAFTKIT_LOG(*logger_, ::raftkit::LogLevel::kWarn, __VA_ARGS__)
#define RAFT_ERROR(...) RAFTKIT_LOG(*logger_, ::raftkit::LogLevel::kError, __VA_ARGS__)
