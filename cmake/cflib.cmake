# cf_add_lib(NAME): a static library of every .c file in the current folder.
# A folder that has no source yet still yields a (empty) library so that the
# link lines above it stay the same while a subsystem is being written.
function(cf_add_lib name)
	file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.c)
	if(NOT srcs)
		set(empty ${CMAKE_CURRENT_BINARY_DIR}/${name}_empty.c)
		file(WRITE ${empty} "typedef int ${name}_empty_unit;\n")
		set(srcs ${empty})
	endif()
	add_library(${name} STATIC ${srcs})
endfunction()

# cf_link_of(SRC OUT): the libraries a test or fuzz source asks for with a
# comment line "cf-link: cf_policy cf_base" (default: every library), so a
# module's tests build while other subsystems are mid-change.
function(cf_link_of src out)
	file(STRINGS ${src} line REGEX "cf-link:" LIMIT_COUNT 1)
	if(line)
		string(REGEX REPLACE ".*cf-link:[ ]*([a-z_ ]+).*" "\\1" libs "${line}")
		string(STRIP "${libs}" libs)
		separate_arguments(libs UNIX_COMMAND "${libs}")
		set(${out} ${libs} PARENT_SCOPE)
	else()
		set(${out} coffer_libs PARENT_SCOPE)
	endif()
endfunction()
