// Nothing here: the declaration in include/CLibFuzzer.h is all this target is for.
#include "CLibFuzzer.h"
