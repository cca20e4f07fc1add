# Injected by scripts/test-asan.js as CMAKE_PROJECT_INCLUDE (cmake-js sets
# CMAKE_CXX_FLAGS itself, so flags passed there would be lost): neonn's own
# C and C++ built with AddressSanitizer and UBSan into build-asan/. The bundled
# OpenBLAS objects come from the same cache as the normal build, unsanitized.
# Any UBSan finding is fatal (-fno-sanitize-recover), as an ASan one is.
add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                    -fno-omit-frame-pointer -g)
add_link_options(-fsanitize=address,undefined)
message(STATUS "neonn: sanitizer build (address, undefined)")
