// Runtime typecode check (mpref/sharedctypes.hpp); the rest is templates in the header.
#include "mpref/sharedctypes.hpp"

namespace mpref {

std::size_t typecode_size(std::string_view typecode) {
  // sharedctypes.typecode_to_type.get(tc, tc), then ctypes.sizeof: a string that is not one of
  // the codes reaches sizeof() as a str, which "has no size".
  if (typecode.size() == 1) {
    switch (typecode[0]) {
      case 'c': return sizeof(char);
      case 'u': return sizeof(wchar_t);
      case 'b': return sizeof(signed char);
      case 'B': return sizeof(unsigned char);
      case 'h': return sizeof(short);
      case 'H': return sizeof(unsigned short);
      case 'i': return sizeof(int);
      case 'I': return sizeof(unsigned int);
      case 'l': return sizeof(long);
      case 'L': return sizeof(unsigned long);
      case 'q': return sizeof(long long);
      case 'Q': return sizeof(unsigned long long);
      case 'f': return sizeof(float);
      case 'd': return sizeof(double);
      default: break;
    }
  }
  throw TypeError("this type has no size");
}

}  // namespace mpref
