# find_package(xfiq): imported targets xfiq::xfiq (shared libxfiq.so) and
# xfiq::xfiq_static (libxfiq.a), with their dependencies found again here.
include(CMakeFindDependencyMacro)
find_dependency(PkgConfig)
find_dependency(OpenMP COMPONENTS C)
find_dependency(Threads)
pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET openblas)
pkg_check_modules(PROTOBUFC REQUIRED IMPORTED_TARGET libprotobuf-c)
pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
pkg_check_modules(PNG REQUIRED IMPORTED_TARGET libpng)
pkg_check_modules(JPEG REQUIRED IMPORTED_TARGET libjpeg)
include(${CMAKE_CURRENT_LIST_DIR}/xfiqTargets.cmake)
