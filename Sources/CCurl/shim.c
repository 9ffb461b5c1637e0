// CCurl's shims are all inline in include/CCurl.h; a C target needs one source file.
#include "CCurl.h"
