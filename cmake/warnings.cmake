# cmake/warnings.cmake: the one place for warning and hardening flags.
# httpd's set plus -Wformat=2 -Wvla; -Werror when CF_WERROR is on.
set(CF_WARN_FLAGS
	-Wall -Wextra -Wformat=2 -Wvla -Wshadow -Wpointer-arith
	-Wmissing-prototypes -Wstrict-prototypes -Wmissing-declarations
	-Wcast-qual -Wsign-compare -Wno-unused-parameter
	-fstack-protector-strong -fPIE)
if(CF_WERROR)
	list(APPEND CF_WARN_FLAGS -Werror)
endif()
if(NOT CF_SANITIZE AND NOT CF_FUZZ AND NOT CF_COVERAGE
    AND NOT CMAKE_BUILD_TYPE STREQUAL "Debug")
	list(APPEND CF_WARN_FLAGS -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3)
endif()
set(CF_LINK_FLAGS -pie -Wl,-z,relro,-z,now)
