// placeholder: implemented by its owner
#include "util/TokenBucket.h"
