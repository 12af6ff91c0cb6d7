# Go programs built against etcd 3.4's sources from Debian's golang-etcd-server-dev, in GOPATH mode
# (no modules, no network): the rafthttp interop peer and the Go transport benchmark. The build
# cache lives in the build directory; the system tree (/usr/share/gocode) is only read.
include_guard(GLOBAL)

find_program(RAFTKIT_GO go)
set(RAFTKIT_ETCD_GOPATH /usr/share/gocode CACHE PATH "GOPATH holding etcd 3.4's Go sources")
if(NOT RAFTKIT_GO)
  message(FATAL_ERROR "raftkit's Go interop programs need the Go toolchain (Debian: golang-go; "
                      "scripts/deps.sh installs it)")
endif()
if(NOT EXISTS ${RAFTKIT_ETCD_GOPATH}/src/go.etcd.io/etcd/etcdserver/api/rafthttp/transport.go)
  message(FATAL_ERROR "raftkit's Go interop programs need etcd 3.4's Go sources under "
                      "${RAFTKIT_ETCD_GOPATH}/src/go.etcd.io/etcd/etcdserver/api/rafthttp "
                      "(Debian: golang-etcd-server-dev; scripts/deps.sh installs it)")
endif()

# raftkit_go_program(<target> <output-name> <source.go>)
# Builds the single-file Go program <source.go> (relative to the calling directory, or absolute)
# into ${CMAKE_BINARY_DIR}/go/<output-name>; <target> is a custom target that depends on it, built
# by default. The output path is also available as the target property RAFTKIT_GO_OUTPUT.
function(raftkit_go_program target output_name source)
  get_filename_component(src ${source} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  set(out ${CMAKE_BINARY_DIR}/go/${output_name})
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/go
    COMMAND ${CMAKE_COMMAND} -E env GO111MODULE=off GOPATH=${RAFTKIT_ETCD_GOPATH}
            GOCACHE=${CMAKE_BINARY_DIR}/gocache GOFLAGS=
            ${RAFTKIT_GO} build -o ${out} ${src}
    DEPENDS ${src}
    COMMENT "Building ${output_name} (Go, etcd 3.4 from ${RAFTKIT_ETCD_GOPATH})"
    VERBATIM)
  add_custom_target(${target} ALL DEPENDS ${out})
  set_target_properties(${target} PROPERTIES RAFTKIT_GO_OUTPUT ${out})
endfunction()

# raftkit_go_package(<target> <output-name> <import-path>)
# As raftkit_go_program, for a whole Go package of the GOPATH tree, e.g. etcd's
# go.etcd.io/etcd/contrib/raftexample (a live peer for the mixed-cluster tests).
function(raftkit_go_package target output_name import_path)
  set(out ${CMAKE_BINARY_DIR}/go/${output_name})
  file(GLOB pkg_sources ${RAFTKIT_ETCD_GOPATH}/src/${import_path}/*.go)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/go
    COMMAND ${CMAKE_COMMAND} -E env GO111MODULE=off GOPATH=${RAFTKIT_ETCD_GOPATH}
            GOCACHE=${CMAKE_BINARY_DIR}/gocache GOFLAGS=
            ${RAFTKIT_GO} build -o ${out} ${import_path}
    DEPENDS ${pkg_sources}
    COMMENT "Building ${output_name} (Go package ${import_path})"
    VERBATIM)
  add_custom_target(${target} ALL DEPENDS ${out})
  set_target_properties(${target} PROPERTIES RAFTKIT_GO_OUTPUT ${out})
endfunction()
