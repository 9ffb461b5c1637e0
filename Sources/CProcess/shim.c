// CProcess's shims are all inline in include/CProcess.h; a C target needs one source file.
#include "CProcess.h"
