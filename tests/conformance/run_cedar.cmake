# Extract the Cedar corpus (once per archive) and run the conformance
# runner over it.  Invoked by CTest with TARBALL, DEST and RUNNER set.
set(stamp "${DEST}/.extracted")
if(NOT EXISTS "${stamp}" OR "${TARBALL}" IS_NEWER_THAN "${stamp}")
	file(REMOVE_RECURSE "${DEST}")
	file(MAKE_DIRECTORY "${DEST}")
	execute_process(COMMAND ${CMAKE_COMMAND} -E tar xzf "${TARBALL}"
	    WORKING_DIRECTORY "${DEST}" RESULT_VARIABLE rc)
	if(NOT rc EQUAL 0)
		message(FATAL_ERROR "cannot extract ${TARBALL}")
	endif()
	file(TOUCH "${stamp}")
endif()
execute_process(COMMAND "${RUNNER}" "${DEST}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
	message(FATAL_ERROR "Cedar conformance failed")
endif()
