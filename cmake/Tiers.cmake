# The time tiers: harness/tiers.json is their one definition (Python reads it through
# harness/python/mpconform_tiers.py). mpconform_generate_tiers(<json> <out>) turns it into the
# C++ fragment <out> (mpconform/tiers_table.inc, included by mpconform/tiers.hpp inside
# namespace mpconform::tiers) at configure time; editing the JSON re-runs CMake
# (CMAKE_CONFIGURE_DEPENDS), and the fragment is rewritten only when its text changes.
#
# The JSON is checked as the Python reader checks it: a scale_variable that is an environment
# variable name; a non-empty list of tiers, each with a lower-case identifier `name` (unique),
# a number `base_seconds` > 0 strictly greater than the previous tier's, and a one-line
# `meaning`. A tier whose name is a C++ keyword gets a trailing underscore (short_, long_).
# Also usable from a script (props/tooling/test_tiers.py runs it with cmake -P).

get_filename_component(_MPCONFORM_TIERS_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(_MPCONFORM_CXX_KEYWORDS
    alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t
    char32_t class compl concept const consteval constexpr constinit const_cast continue
    co_await co_return co_yield decltype default delete do double dynamic_cast else enum
    explicit export extern false float for friend goto if inline int long mutable namespace new
    noexcept not not_eq nullptr operator or or_eq private protected public register
    reinterpret_cast requires return short signed sizeof static static_assert static_cast
    struct switch template this thread_local throw true try typedef typeid typename union
    unsigned using virtual void volatile wchar_t while xor xor_eq)

# string(JSON <what> ...) on the document being read (GET or TYPE), fatal with the file's name.
function(_mpconform_tiers_json what out json)
  string(JSON result ERROR_VARIABLE err ${what} "${_doc}" ${ARGN})
  if(err)
    message(FATAL_ERROR "${json}: ${err}")
  endif()
  set(${out} "${result}" PARENT_SCOPE)
endfunction()
macro(_mpconform_tiers_get out json)
  _mpconform_tiers_json(GET ${out} "${json}" ${ARGN})
endmacro()
macro(_mpconform_tiers_type out json)
  _mpconform_tiers_json(TYPE ${out} "${json}" ${ARGN})
endmacro()

function(mpconform_generate_tiers json out)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${json}")
  file(READ "${json}" _doc)

  _mpconform_tiers_type(type "${json}" scale_variable)
  _mpconform_tiers_get(var "${json}" scale_variable)
  if(NOT type STREQUAL "STRING" OR NOT var MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "${json}: scale_variable must be an environment variable name, not '${var}'")
  endif()

  _mpconform_tiers_type(type "${json}" tiers)
  if(NOT type STREQUAL "ARRAY")
    message(FATAL_ERROR "${json}: tiers must be a list")
  endif()
  string(JSON count LENGTH "${_doc}" tiers)
  if(count EQUAL 0)
    message(FATAL_ERROR "${json}: tiers is empty")
  endif()
  math(EXPR last "${count} - 1")

  set(body "")
  set(idents "")
  set(names "")
  set(prev_name "")
  set(prev_base "")
  foreach(i RANGE ${last})
    _mpconform_tiers_type(type "${json}" tiers ${i} name)
    _mpconform_tiers_get(name "${json}" tiers ${i} name)
    if(NOT type STREQUAL "STRING" OR NOT name MATCHES "^[a-z][a-z0-9_]*$")
      message(FATAL_ERROR "${json}: tier ${i}: name must be a lower-case identifier, not '${name}'")
    endif()
    if(name IN_LIST names)
      message(FATAL_ERROR "${json}: tier '${name}' is defined twice")
    endif()
    list(APPEND names "${name}")

    _mpconform_tiers_type(type "${json}" tiers ${i} base_seconds)
    _mpconform_tiers_get(base "${json}" tiers ${i} base_seconds)
    if(NOT type STREQUAL "NUMBER" OR NOT base GREATER 0)
      message(FATAL_ERROR "${json}: tier '${name}': base_seconds must be a number > 0, not '${base}'")
    endif()
    if(NOT prev_base STREQUAL "" AND NOT base GREATER prev_base)
      message(FATAL_ERROR "${json}: tier '${name}' (${base} s) must be longer than '${prev_name}' "
                          "(${prev_base} s): tiers are listed shortest first")
    endif()
    set(prev_name "${name}")
    set(prev_base "${base}")

    _mpconform_tiers_type(type "${json}" tiers ${i} meaning)
    _mpconform_tiers_get(meaning "${json}" tiers ${i} meaning)
    # (a trailing backslash would splice the next line into the generated comment)
    if(NOT type STREQUAL "STRING" OR meaning STREQUAL "" OR meaning MATCHES "[\r\n]|\\\\$")
      message(FATAL_ERROR "${json}: tier '${name}': meaning must be one non-empty line, not ending in a backslash")
    endif()

    # CMake prints JSON numbers with up to 17 significant digits (0.05 -> 0.050000000000000003):
    # the same double as the JSON text, which is what the C++ literal must be.
    if(base MATCHES "^[0-9]+$")
      string(APPEND base ".0")
    endif()
    set(ident "${name}")
    if(name IN_LIST _MPCONFORM_CXX_KEYWORDS)
      string(APPEND ident "_")
    endif()
    list(APPEND idents "${ident}")
    string(APPEND body "/// ${meaning}\ninline constexpr Tier ${ident}{\"${name}\", ${base}};\n")
  endforeach()

  list(JOIN idents ", " all)
  file(RELATIVE_PATH rel "${_MPCONFORM_TIERS_ROOT}" "${json}")
  file(CONFIGURE OUTPUT "${out}" @ONLY CONTENT
"// Generated by CMake (cmake/Tiers.cmake) from ${rel}: do not edit; edit the JSON.
// Included by mpconform/tiers.hpp inside namespace mpconform::tiers.

/// The environment variable that scales every tier.
inline constexpr std::string_view scale_variable{\"${var}\"};

${body}
/// Every tier, shortest first.
inline constexpr std::array<Tier, ${count}> table{${all}};
")
endfunction()
