// placeholder: implemented by its owner
#include "util/Clock.h"
